"""Copies the built libtcgpu.so into the package (the module is ctypes over it, nothing to
compile here), with libtcgpu_cuda.so beside it where the build has CUDA (libtcgpu opens it
from its own folder on first use of a GPU). Where from: $TCGPU_LIB, else ../build/libtcgpu.so
(what scripts/bootstrap builds)."""
import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution


def library():
    here = Path(__file__).resolve().parent
    lib = Path(os.environ.get("TCGPU_LIB") or here.parent / "build" / "libtcgpu.so")
    if not lib.is_file():
        raise SystemExit(f"tcgpu: {lib} not found; build tcgpu first (scripts/bootstrap) "
                         "or set TCGPU_LIB to a built libtcgpu.so")
    return lib


class BuildPy(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "tcgpu" / "libtcgpu.so"
        target.parent.mkdir(parents=True, exist_ok=True)
        lib = library()
        shutil.copyfile(lib, target)
        cuda = lib.with_name("libtcgpu_cuda.so")
        if cuda.is_file():
            shutil.copyfile(cuda, target.with_name(cuda.name))


class BinaryDistribution(Distribution):
    """The wheel carries a machine's shared library: tag it for the platform."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPy}, distclass=BinaryDistribution)

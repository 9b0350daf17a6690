set terminal pngcairo size 900,600 font ',11'
set output 'semiclassical.png'
set datafile separator ','
set key top left box opaque
set grid
set multiplot layout 1,3 title 'Semiclassical limit: truncated Wigner (points, 4 s.e. bars) against exact (crosses), two channels, g = 1'
set logscale x
set xlabel 'X = N g^2/(beta ln N)'
set key top left
set xrange [0.2:4.5]
set ylabel '⟨n⟩/N'
plot 'semiclassical.csv' using ($2*(1+0.02*log10($1))):6 with points pt 2 ps 1.5 lc rgb 'black' title 'exact', '' using ($2*(1+0.02*log10($1))):4:(4*$5) with yerrorbars pt 7 ps 0.7 title 'TWA'
set logscale y
set ylabel '⟨n_2⟩'
set key top left
plot 'semiclassical.csv' using ($2*(1+0.02*log10($1))):9 with points pt 2 ps 1.5 lc rgb 'black' title 'exact', '' using ($2*(1+0.02*log10($1))):7:(4*$8) with yerrorbars pt 7 ps 0.7 title 'TWA'
unset logscale y
set ylabel 'eta'
set key bottom left
plot 'semiclassical.csv' using ($2*(1+0.02*log10($1))):12 with points pt 2 ps 1.5 lc rgb 'black' title 'exact', '' using ($2*(1+0.02*log10($1))):10:(4*$11) with yerrorbars pt 7 ps 0.7 title 'TWA'
unset multiplot

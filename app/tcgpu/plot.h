/* DIR/plot.png of a `tcgpu run` folder: the simulated means and eta over the exact curves, and
 * the error panel (TV against the exact engine, the control's estimate, --tol). Drawn from the
 * folder's own files (summary.csv, run.json), so it works for a finished run, an interrupted
 * one, or one copied from elsewhere. */
#ifndef TCGPU_PLOT_H
#define TCGPU_PLOT_H

/* Writes DIR/plot.gp (gnuplot script with the data inline, kept so the figure can be restyled)
 * and, when gnuplot runs, DIR/plot.png (under a temporary name, renamed when complete).
 * Without gnuplot it says so in one line on stderr and returns CLI_OK with *drawn = 0.
 * Returns a CLI_* code after one line on stderr. */
int run_plot(const char *cmd, const char *dir, int *drawn);

/* `tcgpu plot DIR`. */
int cli_plot(int argc, char **argv);

#endif

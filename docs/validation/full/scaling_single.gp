set terminal pngcairo size 900,600 font ',11'
set output 'scaling_single.png'
set datafile separator ','
set key top left box opaque
set grid
set multiplot layout 1,2 title 'Single channel, N = 1000: simulated points, exact and asymptotic lines'
set logscale xy
set xlabel 'Gamma = beta/(2 pi g^2)'
set ylabel '⟨ν⟩ = N - ⟨n_1⟩'
set key top left
plot 'scaling_single_curves.csv' using 1:2 with lines lw 2 title 'eq 40 (exact)', '' using 1:3 with lines dt 2 lw 2 title 'eq 46', '' using 1:($4>0?$4:1/0) with lines dt 3 lw 2 title 'eq 53: Gamma ln Gamma', 'scaling_single_points.csv' using 1:2 with points pt 7 ps 1.3 lc rgb 'black' title 'simulation'
set xlabel '1 - beta/beta_c'
set ylabel 'peak position m*'
set key top left
plot 'scaling_single_curves.csv' using 5:6 with lines lw 2 title 'eq 54', '' using 5:7 with lines dt 2 lw 2 title sprintf('fit: mu = 0.973', 0.972827), 'scaling_single_points.csv' using 4:5 with points pt 7 ps 1.3 lc rgb 'black' title 'simulation'
unset multiplot

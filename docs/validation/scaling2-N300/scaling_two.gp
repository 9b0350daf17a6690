set terminal pngcairo size 900,600 font ',11'
set output 'scaling_two.png'
set datafile separator ','
set key top left box opaque
set grid
set title 'Two channels, N = 300, eps = 0.5: ⟨n_2⟩ after the sweep'
set xlabel 'Gamma = beta/(2 pi g^2)'
set ylabel '⟨n_2⟩'
set key top left
plot 'scaling_two.csv' using 1:3 with lines lw 2 title 'eq 61 (exact, N = 300)', '' using 1:4 with lines lw 2 dt 2 title 'eq 69: Gamma', '' using 1:5 with lines lw 2 dt 3 title 'x/(1-x) (N -> inf)', '' using 1:6 with lines lw 1 dt 4 title sprintf('fit: a = 0.987, b = -0.430', 0.986849, -0.430121), 'scaling_two_points.csv' using 1:2 with points pt 7 ps 1.3 lc rgb 'black' title 'simulation'

set terminal pngcairo size 900,600 font ',11'
set output 'fig7.png'
set datafile separator ','
set key top left box opaque
set grid
set title 'Fig 7: n = 50, g = 1, beta = 50, eps = 1'
set xlabel 'delta n = n_2 - n_1'
set ylabel 'P(delta n)'
set logscale y
set format y '10^{%L}'
set key top right
set xrange [-52:0]
set yrange [1e-6:1]
plot 'fig7.csv' using 1:2 with impulses lw 2 title 'eq 75 (Gibbs)', '' using 1:3 with points pt 4 ps 1.2 lc rgb 'black' title 'simulation (eq 72)'

set terminal pngcairo size 900,600 font ',11'
set output 'fig8.png'
set datafile separator ','
set key top left box opaque
set grid
set title 'Fig 8: ⟨n_2⟩ after the sweep, n = 50, g = 1, eps = 1'
set xlabel 'beta/(2 pi g^2)'
set ylabel '⟨n_2⟩'
set key top left
plot 'fig8.csv' using 1:6 with lines lw 2 title 'eq 76: beta/2pi g^2 - 1/2', '' using 1:5 with lines lw 2 dt 2 title 'eq 76: coth(pi g^2/beta)/2 - 1/2', '' using 1:4 with lines lw 1 dt 4 lc rgb 'gray40' title 'eq 75 mean, finite n = 50', '' using 1:3 with points pt 7 ps 1.3 lc rgb 'black' title 'simulation (eq 72)'

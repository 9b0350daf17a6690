set terminal pngcairo size 900,600 font ',11'
set output 'fig4.png'
set datafile separator ','
set key top left box opaque
set grid
set title 'Fig 4: N = 3, beta = 1: Phi_m(g) - 5 m pi/4'
set xlabel 'g'
set ylabel 'Phi_m - Phi_m(g -> 0)  [rad]'
set key top left
plot for [m=1:3] 'fig4_eq58.csv' using 1:1+m with lines lw 2 lc m title sprintf('eq 58, m = %d', m), for [m=1:3] 'fig4.csv' using 1:4+m with points pt 7 ps 1.2 lc m title sprintf('simulation, m = %d', m)

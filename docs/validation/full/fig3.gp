set terminal pngcairo size 900,600 font ',11'
set output 'fig3.png'
set datafile separator ','
set key top left box opaque
set grid
set multiplot layout 1,2 title 'Fig 3: P_m, eq 40, N = 1000 (q_c = 0.760)'
set xlabel 'm (molecules dissociated)'
set ylabel 'P_m'
set key top right
set title '(a) q near q_c'
set xrange [0:300]
plot for [i=2:5] 'fig3_exact.csv' using 1:i with lines lw 2 title columnhead(i)
set title '(b) q >> 1'
set xrange [500:1000]
set key top left
plot for [i=6:8] 'fig3_exact.csv' using 1:i with lines lw 2 title columnhead(i)
unset multiplot

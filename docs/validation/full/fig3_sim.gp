set terminal pngcairo size 900,600 font ',11'
set output 'fig3_sim.png'
set datafile separator ','
set key top left box opaque
set grid
set title 'Fig 3 at N = 1000: eq 40 (lines) and quantum simulation (points)'
set xlabel 'm (molecules dissociated)'
set ylabel 'P_m'
set key top center
plot for [i=0:2] 'fig3_sim.csv' using 1:2+2*i with lines lw 2 lc i+1 title columnhead(2+2*i), for [i=0:2] '' every 8 using 1:3+2*i with points pt 6 ps 1 lc i+1 title columnhead(3+2*i)

set terminal pngcairo size 900,600 font ',11'
set output 'scaling_large.png'
set datafile separator ','
set key top left box opaque
set grid
set terminal pngcairo size 1200,900 font ',11'
set output 'scaling_large.png'
set multiplot layout 2,2 title 'Single channel across N: beta_c and eq 55 from simulations'
set logscale x
set xlabel 'N'
set ylabel 'q_c = 2 pi g^2 N/(beta_c ln N)'
set key bottom right
plot 'scaling_large_curves.csv' using 1:2 with lines lw 2 title 'eq 47 (exact root)', '' using 1:3 with lines dt 2 lw 2 title 'eq 50', '' using 1:4 with lines dt 3 lw 2 title 'eq 49: 1 - ln ln N/ln N', 'scaling_large.csv' using 1:10 with points pt 7 ps 1.5 lc rgb 'black' title 'simulated root'
set logscale xy
set ylabel 'relative error of the simulated beta_c'
set format y '10^{%L}'
set key center right
plot 'scaling_large.csv' using 1:(abs($4)>1e-16?abs($4):1e-16) with points pt 7 ps 1.5 lc rgb 'black' title '|simulated/exact - 1|', '' using 1:6 with linespoints pt 6 title 'from the error of ln(P_1/P_0)', '' using 1:5 with linespoints pt 4 title 'bound from TV', 1e-3 with lines dt 2 lc rgb 'red' title 'acceptance 1e-3'
set format y
set xlabel '1 - beta/beta_c'
set ylabel 'm_{peak}/(N + beta_c/2 pi g^2)'
set key bottom right
plot x with lines lw 2 lc rgb 'gray' title 'eq 55: mu = 1', 'scaling_large_peaks.csv' using 2:($1==100?$3/$5:1/0) with points pt 5 ps 1.3 title 'N = 100', 'scaling_large_peaks.csv' using 2:($1==1000?$3/$5:1/0) with points pt 7 ps 1.3 title 'N = 1000', 'scaling_large_peaks.csv' using 2:($1==3000?$3/$5:1/0) with points pt 9 ps 1.3 title 'N = 3000', 'scaling_large_peaks.csv' using 2:($1==10000?$3/$5:1/0) with points pt 11 ps 1.3 title 'N = 10000', 'scaling_large_peaks.csv' using 2:($1==100000?$3/$5:1/0) with points pt 5 ps 1.3 title 'N = 100000'
unset logscale
set xrange [*:*] reverse
set xlabel '1/ln N (N grows to the right)'
set ylabel 'mu (eq 55)'
set key bottom left
plot 'scaling_large_curves.csv' using ($1>=50?$5:1/0):6 with lines lw 2 title 'eq 40 (exact)', 'scaling_large.csv' using (1/log($1)):11:12 with yerrorbars pt 7 ps 1.3 lc rgb 'black' title 'simulation (± se)', 1 with lines dt 2 lc rgb 'gray' title 'mu = 1', 1.0160715 + -0.32715799*x with lines dt 3 lw 2 title sprintf('fit: mu_{inf} = %.3f', 1.0160715)
unset multiplot


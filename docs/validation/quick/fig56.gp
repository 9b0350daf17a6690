set terminal pngcairo size 900,600 font ',11'
set output 'fig56.png'
set datafile separator ','
set key top left box opaque
set grid
set multiplot layout 2,2 title 'Figs 5-6: N = 1e5, g = 1; dots exact (eqs 40, 62, 63), lines asymptotic'
set logscale x
set format x '10^{%L}'
set xlabel 'N g^2/(beta ln N)'
set key bottom right
set ylabel '⟨n_1⟩/N'
plot 'fig56.csv' using 1:4 with points pt 7 ps 0.6 title 'exact', '' using 1:($14==1?$8:1/0) with lines lw 2 title 'eq 46'
set ylabel '⟨n⟩/N'
plot 'fig56.csv' using 1:5 with points pt 7 ps 0.6 title 'exact', '' using 1:($14==1?$9:1/0) with lines lw 2 title 'eq 67', '' using 1:($14==1?$10:1/0) with lines lw 2 dt 2 title 'eq 68'
set logscale y
set format y '10^{%L}'
set key top right
set ylabel '⟨n_2⟩/N'
plot 'fig56.csv' using 1:6 with points pt 7 ps 0.6 title 'exact', '' using 1:($14==1?$11:1/0) with lines lw 2 title 'eq 69'
unset logscale y
set format y '%g'
set key bottom right
set ylabel 'eta'
plot 'fig56.csv' using 1:7 with points pt 7 ps 0.6 title 'exact', '' using 1:($14==1?$13:1/0) with lines lw 2 title 'eq 70'
unset multiplot

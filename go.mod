module github.com/loadgen/loadgen

go 1.26.8

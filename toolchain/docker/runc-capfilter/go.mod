// The runc wrapper Docker uses as its default runtime on hosts whose capability bounding set is
// smaller than the full set (see main.go). Standard library only.
module k8s-lab/toolchain/docker/runc-capfilter

go 1.22

// The pod sandbox ("pause") container of every full-tier pod. Standard library only.
module k8s-lab/toolchain/node-image/pause

go 1.22

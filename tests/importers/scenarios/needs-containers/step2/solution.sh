#!/bin/bash
kubectl run fetch --image=busybox:1.36 --restart=Never --rm -i -- wget -qO- http://web > ~/page.html

#!/bin/bash
echo "Checking..."
test -s ~/first-line.txt && k get deploy web

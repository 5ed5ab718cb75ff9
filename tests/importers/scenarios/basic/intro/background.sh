#!/bin/bash
kubectl create namespace warmup

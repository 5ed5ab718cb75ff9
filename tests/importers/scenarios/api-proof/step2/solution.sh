#!/bin/bash
kubectl label configmap app -n settings team=blue

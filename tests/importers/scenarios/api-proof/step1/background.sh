#!/bin/bash
kubectl create namespace settings

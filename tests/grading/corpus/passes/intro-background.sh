#!/bin/bash
kubectl create namespace shop

#!/bin/bash
kubectl get namespace team-a

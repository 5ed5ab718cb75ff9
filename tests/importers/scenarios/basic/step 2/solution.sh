#!/bin/bash
kubectl run web --image=nginx -n team-a

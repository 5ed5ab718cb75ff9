#!/bin/bash
k create deployment web --image=nginx:1.27
k expose deployment web --port=80

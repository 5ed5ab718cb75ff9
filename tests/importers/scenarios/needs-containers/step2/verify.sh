#!/bin/bash
grep -q nginx ~/page.html

kubectl get nodes -l lab=yes | grep -q .

kubectl get configmap app

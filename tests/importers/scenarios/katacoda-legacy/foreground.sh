echo "Preparing your cluster..."
while [ ! -f /tmp/finished ]; do sleep 1; done
echo "Ready."

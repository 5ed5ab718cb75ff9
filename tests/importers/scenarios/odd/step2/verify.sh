test -f ~/explored

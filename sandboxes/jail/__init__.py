"""A learner's confinement on the api tier: the jail their shell, the lab's check and setup
scripts and every file the lab puts in their home go through.

Modules: layout (where a sandbox's jail lives on the host, and its uid), bwrap (the one
bubblewrap command line), limits (cgroups and rlimits), homefs (the bounded home filesystem),
homefiles (writing into the home as the learner), kubeconfig (what the lab reads and writes of
kubeconfigs), apiproxy (the jail's only way out: its own API server), scripts (a script run
inside the jail).
"""

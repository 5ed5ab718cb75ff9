"""`python -m bench.provision`: the provisioning benchmark (bench/provision/run.py)."""
import sys

from bench.provision.run import main

sys.exit(main())

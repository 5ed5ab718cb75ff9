"""Tier `full`: a kind cluster (Kubernetes in Docker). One node container runs systemd,
containerd, the kubelet and a kubeadm control plane, so the learner gets real pods with real
logs and exec. Nothing is pulled: the node image (k8s-lab/kind-node:<version>, built by
`toolchain/full-tier.sh`) holds every image the cluster and the course use, and pod networking is
a CNI configuration inside that image (kind's own kindnetd image cannot be had offline).

The learner's shell is a toolbox pod inside the cluster (lab-system/toolbox), so kubectl there
talks to the learner's own cluster, with the learner's role and the lab's rules (policy.py)
keeping it from reaching the node and, through it, the lab's host.

The package's modules, one concern each:
  driver.py     KindBackend: the kind CLI (create, delete, list), progress from kind's output
  network.py    the cluster's Docker network (labelled with this lab instance) and firewall rules
  kubeadm.py    the kind configuration and the files kubeadm and the API server get (pure)
  bootstrap.py  the objects the lab makes inside the cluster: policies, role, toolbox (pure
                manifests, and the calls that create them)
  policy.py     what the learner may do: role, admission policies, the Secrets authorizer (pure)
  images.py     the pinned images and how to build them
  setup_pod.py  where a course's setup script runs as the cluster's administrator
"""
from sandboxes.backends.kind.bootstrap import TOOLBOX_NAMESPACE, TOOLBOX_POD
from sandboxes.backends.kind.driver import KindBackend
from sandboxes.backends.kind.images import node_image, toolbox_image
from sandboxes.backends.kind.kubeadm import kind_config

__all__ = ["KindBackend", "TOOLBOX_NAMESPACE", "TOOLBOX_POD", "kind_config", "node_image",
           "toolbox_image"]

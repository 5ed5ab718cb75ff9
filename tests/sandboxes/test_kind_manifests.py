"""The full tier's manifests and configuration, as the pure functions make them: no cluster, no
Docker. What these dicts say is what the real clusters get (the tests beside this one apply
them to real kind clusters and attack them as the learner)."""
import os
import stat
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from sandboxes import names
from sandboxes.backends.kind import bootstrap, kubeadm, network, policy
from sandboxes.backends.kind.driver import progress_step


def _by_name(objects, kind):
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


# Names and the instance id -----------------------------------------------------------------------
def test_the_instance_id_is_generated_once_into_the_data_directory_privately(settings):
    path = Path(settings.DATA_DIR) / "instance_id"
    assert path.read_text().strip() == settings.LAB_INSTANCE_ID == names.instance_id()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("bad", ["", "has space", "a=b", "x" * 129, "new\nline"])
def test_a_bad_instance_id_is_refused_with_its_name(settings, bad):
    settings.LAB_INSTANCE_ID = bad
    with pytest.raises(ImproperlyConfigured, match="LAB_INSTANCE_ID"):
        names.instance_id()


def test_instance_labels_say_who_made_it(settings):
    settings.LAB_INSTANCE_ID = "lab-one"
    assert names.instance_labels() == {"app.kubernetes.io/managed-by": "k8s-lab",
                                       "k8s-lab.instance": "lab-one"}


# Pods ------------------------------------------------------------------------------------------
def test_only_protected_namespaces_are_exempt_from_the_pod_policy():
    assert set(policy.SYSTEM_POD_NAMESPACES) <= set(policy.PROTECTED_NAMESPACES)
    pod_policy = _by_name(policy.pod_policy(), "ValidatingAdmissionPolicy")[
        "k8s-lab-pods-stay-in-their-sandbox"]
    (selector,) = pod_policy["spec"]["matchConstraints"]["namespaceSelector"]["matchExpressions"]
    assert selector == {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                        "values": ["kube-system"]}
    # Every refusal says the rule holds in any namespace the learner can make.
    assert all("every namespace but kube-system" in v["message"]
               for v in pod_policy["spec"]["validations"])


def test_pod_volumes_are_an_allow_list_of_the_restricted_kinds():
    validations = _by_name(policy.pod_policy(), "ValidatingAdmissionPolicy")[
        "k8s-lab-pods-stay-in-their-sandbox"]["spec"]["validations"]
    (volumes,) = [v for v in validations if "object.spec.volumes" in v["expression"]]
    assert volumes["expression"] == (
        "!has(object.spec.volumes) || object.spec.volumes.all(v, has(v.configMap) || has(v.csi)"
        " || has(v.downwardAPI) || has(v.emptyDir) || has(v.ephemeral)"
        " || has(v.persistentVolumeClaim) || has(v.projected) || has(v.secret))")
    for reaches_the_node in ("hostPath", "nfs", "iscsi", "flexVolume", "gitRepo", "image"):
        assert reaches_the_node not in volumes["expression"]


def test_learner_made_persistent_volumes_may_only_be_csi():
    (pv_policy,) = _by_name(policy.persistent_volume_policy(), "ValidatingAdmissionPolicy").values()
    (rule,) = pv_policy["spec"]["matchConstraints"]["resourceRules"]
    assert rule["resources"] == ["persistentvolumes"] and rule["operations"] == ["CREATE"]
    (validation,) = pv_policy["spec"]["validations"]
    assert validation["expression"] == f"{policy.SYSTEM_CALLER} || has(object.spec.csi)"
    assert "PersistentVolumeClaim" in validation["message"]


# Identities -------------------------------------------------------------------------------------
def test_a_node_identity_passes_the_read_only_policy_only_for_kubelet_writes():
    # The only mention of nodes is joined to what a kubelet writes.
    assert policy.SYSTEM_CALLER.count("system:node:") == 1
    assert ("request.userInfo.username.startsWith('system:node:') && ("
            + policy.KUBELET_WRITES + ")") in policy.SYSTEM_CALLER
    for kubelet_write in ("'pods'", "['', 'status']", "'events'", "'serviceaccounts'", "'token'"):
        assert kubelet_write in policy.KUBELET_WRITES
    assert "configmaps" not in policy.KUBELET_WRITES and "secrets" not in policy.KUBELET_WRITES


def test_the_learner_role_cannot_mint_certificates_or_impersonate():
    rules = policy.learner_role()["rules"]
    certificates = [r for r in rules if "certificates.k8s.io" in r.get("apiGroups", [])]
    assert certificates and all(set(r["verbs"]) <= {"get", "list", "watch"} for r in certificates)
    verbs = {v for r in rules for v in r["verbs"]}
    assert not verbs & {"impersonate", "escalate", "bind", "approve", "sign", "*"}
    assert "nodes/proxy" not in policy.CORE_RESOURCES


def test_the_secrets_authorizer_selects_only_the_learners_requests_for_protected_secrets():
    conditions = policy.protected_secrets_conditions()
    # Non-resource requests must be ruled out first: an error in a later condition would
    # otherwise deny them (the authorizer fails closed).
    assert conditions[0] == "has(request.resourceAttributes)"
    assert "request.resourceAttributes.namespace in ['kube-system', 'lab-system', '']" in conditions
    assert conditions[-1].startswith("!(request.user.startsWith('system:node:') || ")


def test_the_api_server_asks_the_refusing_authorizer_before_node_and_rbac(tmp_path):
    config = kubeadm.authorization_config()
    assert [a["type"] for a in config["authorizers"]] == ["Webhook", "Node", "RBAC"]
    webhook = config["authorizers"][0]["webhook"]
    assert webhook["failurePolicy"] == "Deny"
    assert [c["expression"] for c in webhook["matchConditions"]] == \
        policy.protected_secrets_conditions()
    server = kubeadm.refuser_kubeconfig()["clusters"][0]["cluster"]["server"]
    assert server.startswith("https://127.0.0.1:1/")
    # The files the configuration names are the files the node gets, where it mounts them.
    files = kubeadm.node_files()
    in_node = {f"{kubeadm.APISERVER_FILES}/{p.split('/', 1)[1]}": text
               for p, text in files.items() if p.startswith("apiserver/")}
    assert yaml.safe_load(in_node[kubeadm.AUTHORIZATION_CONFIG]) == config
    assert yaml.safe_load(in_node[webhook["connectionInfo"]["kubeConfigFile"]]) == \
        kubeadm.refuser_kubeconfig()
    kubeadm.write_node_files(tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == \
        sorted(files)


# The kind configuration ------------------------------------------------------------------------------
def test_the_kind_config_mounts_the_node_files_and_hands_kubeadm_the_authorizer(tmp_path):
    config = yaml.safe_load(kubeadm.kind_config(tmp_path))
    (node,) = config["nodes"]
    assert node["extraMounts"] == [{"hostPath": str(tmp_path),
                                    "containerPath": kubeadm.NODE_FILES_IN_NODE, "readOnly": True}]
    patches = [yaml.safe_load(p) for p in config["kubeadmConfigPatches"]]
    kinds = {p["kind"]: p for p in patches}
    assert kinds["KubeletConfiguration"] == {"kind": "KubeletConfiguration", "failCgroupV1": False}
    assert kinds["InitConfiguration"]["patches"]["directory"] == kubeadm.PATCHES_IN_NODE
    api = kinds["ClusterConfiguration"]["apiServer"]
    assert api["extraArgs"] == [{"name": "authorization-config",
                                 "value": kubeadm.AUTHORIZATION_CONFIG}]
    (volume,) = api["extraVolumes"]
    assert volume["hostPath"] == f"{kubeadm.NODE_FILES_IN_NODE}/apiserver"
    assert volume["mountPath"] == kubeadm.APISERVER_FILES and volume["readOnly"] is True
    assert config["networking"]["apiServerAddress"] == "127.0.0.1"


def test_the_plain_kind_config_of_the_benchmark_has_none_of_the_labs_files():
    config = yaml.safe_load(kubeadm.kind_config())
    assert "extraMounts" not in config["nodes"][0]
    assert [yaml.safe_load(p)["kind"] for p in config["kubeadmConfigPatches"]] == \
        ["KubeletConfiguration"]


def test_kubeadm_patches_lower_the_control_planes_cpu_requests():
    patches = {name: yaml.safe_load(text) for name, text in kubeadm.kubeadm_patches().items()}
    assert patches["kube-apiserver+strategic.yaml"]["spec"]["containers"] == [
        {"name": "kube-apiserver", "resources": {"requests": {"cpu": "100m"}}}]
    assert len(patches) == 4


# In-cluster objects ----------------------------------------------------------------------------
def test_every_object_the_lab_makes_is_labelled_and_the_policies_come_first():
    objects = bootstrap.cluster_objects("k8s-lab/toolbox:1", "10.96.0.1")
    assert all(o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "k8s-lab"
               for o in objects)
    kinds = [o["kind"] for o in objects]
    last_policy = max(i for i, k in enumerate(kinds) if k.startswith("ValidatingAdmissionPolicy"))
    assert last_policy < kinds.index("ClusterRoleBinding")
    assert len(_by_name(objects, "ValidatingAdmissionPolicy")) == 3
    binding = _by_name(objects, "ClusterRoleBinding")["k8s-lab-toolbox"]
    assert binding["roleRef"]["name"] == policy.LEARNER_ROLE


def test_the_toolbox_pod_is_one_the_pod_policy_admits():
    pod = _by_name(bootstrap.toolbox_manifests("k8s-lab/toolbox:1", "10.96.0.1"), "Pod")["toolbox"]
    spec = pod["spec"]
    assert pod["metadata"]["namespace"] == bootstrap.TOOLBOX_NAMESPACE
    assert not {"hostNetwork", "hostPID", "hostIPC", "volumes"} & set(spec)
    assert spec["securityContext"]["runAsNonRoot"] is True
    (container,) = spec["containers"]
    assert "securityContext" not in container and container["imagePullPolicy"] == "Never"


def test_the_bootstrap_leftovers_that_go_are_the_join_path():
    assert bootstrap.BOOTSTRAP_TOKEN_TYPE == "bootstrap.kubernetes.io/token"
    assert set(bootstrap.JOIN_BINDINGS) == {"kubeadm:kubelet-bootstrap",
                                            "kubeadm:node-autoapprove-bootstrap",
                                            "kubeadm:get-nodes"}


# The network -----------------------------------------------------------------------------------
def test_the_network_is_made_labelled_with_the_instance_and_ipv4_only(settings):
    settings.LAB_INSTANCE_ID = "lab-one"
    argv = network.create_argv("k8slab-abc", names.instance_labels(), 1450)
    assert argv[:4] == ["network", "create", "--driver", "bridge"] and argv[-1] == "k8slab-abc"
    labels = [argv[i + 1] for i, a in enumerate(argv) if a == "--label"]
    assert labels == ["app.kubernetes.io/managed-by=k8s-lab", "k8s-lab.instance=lab-one"]
    assert "com.docker.network.driver.mtu=1450" in argv and "--ipv6" not in argv
    assert "-o" not in network.create_argv("x", {}, None)[5:]


def test_the_firewall_keeps_the_bridge_off_other_networks_and_off_the_host():
    rules = dict(network.firewall_rules("k8slab-abc", "br-0123456789ab"))
    assert rules["DOCKER-USER"] == ["-i", "br-0123456789ab", "!", "-o", "br-0123456789ab",
                                    "-m", "comment", "--comment", "k8s-lab k8slab-abc: no egress",
                                    "-j", "REJECT"]
    assert rules["INPUT"] == ["-i", "br-0123456789ab", "-m", "conntrack", "!", "--ctstate",
                              "ESTABLISHED,RELATED", "-m", "comment", "--comment",
                              "k8s-lab k8slab-abc: no host access", "-j", "REJECT"]
    # One cluster's comment is never the prefix of another's (release() finds rules by it).
    assert not network.rule_comment("k8slab-abcd", "x").startswith(
        network.rule_comment("k8slab-abc", ""))


def test_another_instances_network_is_recognised(settings):
    settings.LAB_INSTANCE_ID = "lab-one"
    assert network.owned_by_another_instance({names.INSTANCE_LABEL: "lab-two"})
    assert not network.owned_by_another_instance({names.INSTANCE_LABEL: "lab-one"})
    assert not network.owned_by_another_instance(None)  # gone
    assert not network.owned_by_another_instance({})  # made before instance ids


# kind's output --------------------------------------------------------------------------------------
@pytest.mark.parametrize("line,step", [
    (" • Preparing nodes 📦  ...", "node"),
    ("• Starting control-plane 🕹️  ...", "control-plane"),
    ("• Waiting ≤ 9m0s for control-plane = Ready ⏳  ...", "node-ready"),
    ("Creating cluster \"k8slab-x\" ...", None),
])
def test_kinds_step_lines_become_progress(line, step):
    found = progress_step(line.strip())
    assert (found[0] if found else None) == step


def test_the_setup_pods_account_is_the_labs_administrator_and_no_learners():
    setup_pod = pytest.importorskip("sandboxes.backends.kind.setup_pod")
    account = f"system:serviceaccount:{bootstrap.TOOLBOX_NAMESPACE}:{setup_pod.SETUP_SERVICE_ACCOUNT}"
    assert policy.LAB_ADMIN_SERVICE_ACCOUNTS == [account]
    # It lives where the learner has no Pods, exec, tokens or Secrets.
    assert bootstrap.TOOLBOX_NAMESPACE in policy.PROTECTED_NAMESPACES
    assert f"'{account}'" in policy.SYSTEM_CALLER
    assert f"'{account}'" in policy.protected_secrets_conditions()[-1]

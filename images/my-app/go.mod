// my-app: the course's sample application (myrepo/my-app:1.0 and :2.0). Standard library only.
module k8s-lab/images/my-app

go 1.22

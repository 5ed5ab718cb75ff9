"""Django settings for k8s-lab: everything comes from environment variables, with defaults that
run the whole lab on one machine (`make run`) and nothing secret in the repository."""
import os
from pathlib import Path

import dj_database_url

from lab.env import env_bool, env_float, env_int, env_list, env_secret, env_str
from lab.private_files import prepare_data_dir

BASE_DIR = Path(__file__).resolve().parent.parent

# All state the lab writes (database, secret key, kubeconfigs, cluster work dirs, terminal homes)
# lives under one data directory, ignored by git: other uids may pass through it (the learner's
# jail does) but not list it, and what is secret in it is 0600/0700 (lab/private_files.py).
DATA_DIR = Path(env_str("LAB_DATA_DIR", str(BASE_DIR / "var"))).resolve()
prepare_data_dir(DATA_DIR)

SECRET_KEY = env_secret("SECRET_KEY", generated_file=DATA_DIR / "secret_key")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_NAME = env_str("SITE_NAME", "k8s-lab")

# HTTPS=true says the lab is served over HTTPS (usually behind a proxy that terminates TLS):
# cookies become secure-only, plain HTTP is redirected and browsers are told to remember it.
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "lab",
    "courses",
    "sandboxes",
    "classes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "lab.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "lab.urls"
ASGI_APPLICATION = "lab.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lab.context_processors.site",
            ],
            # Every template may ask the tier registry for a tier's words ({{ tier|tier_label }}).
            "builtins": ["sandboxes.templatetags.lab_tiers"],
        },
    },
]

# SQLite by default; DATABASE_URL (postgres://user:pass@host/db) switches to PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat write concurrently: WAL lets readers proceed during a
    # write, IMMEDIATE transactions take the write lock up front instead of failing mid-way, and
    # the timeout waits for a busy database rather than raising "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
# Tests run the web server and a Celery worker as real processes: they share a file database.
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"]["NAME"] = str(DATA_DIR / "test-db.sqlite3")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog"
LOGOUT_REDIRECT_URL = "catalog"

# Password-reset mail goes to the console unless an SMTP server is configured.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "k8s-lab <noreply@localhost>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Collected static files belong to the code, not to one lab instance's data.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise looks for it when the app starts
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end packages come from npm (package.json); each package's own folder is served under
# static/vendor/<name>/, nothing else from node_modules.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS += [
    (f"vendor/{package.name}", package)
    for package in sorted((NODE_MODULES / "@xterm").glob("*"))
    if package.is_dir()
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env_bool("STATIC_MANIFEST", True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Redis carries Celery's queue and the Channels layer.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CHANNELS_PREFIX", "k8slab")},
    }
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_IGNORE_RESULT = True
# Results are kept only for the few tasks a command waits on (e.g. `sandbox reconcile`).
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
# A task whose worker died mid-run goes back to the queue instead of being lost.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 900)}
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "lab")
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = TIME_ZONE
# Beat's jobs; the worker also runs reconcile and refill once when it starts.
CELERY_BEAT_SCHEDULE = {
    "reap-idle-sandboxes": {"task": "sandboxes.tasks.reap", "schedule": 30.0},
    "refill-pools": {"task": "sandboxes.tasks.refill_pools", "schedule": 30.0},
    "dispatch-queued": {"task": "sandboxes.tasks.dispatch_queued", "schedule": 10.0},
}

# Courses are read from these directories (each holds one folder per course).
COURSE_DIRS = [Path(p) for p in env_list("COURSE_DIRS", [str(BASE_DIR / "courses" / "content")])]

# The toolchain (kubectl, kube-apiserver, etcd, kwokctl, kind, ...) is built once into a cache
# outside the clone by `make toolchain`.
LAB_CACHE = Path(env_str("K8S_LAB_CACHE", str(Path.home() / ".cache" / "k8s-lab")))
TOOLCHAIN_BIN = Path(env_str("TOOLCHAIN_BIN", str(LAB_CACHE / "toolchain" / "bin")))
# Sandbox tiers this lab offers; /healthz reports 503 when one of their backends is down.
LAB_TIERS = env_list("LAB_TIERS", ["api"])
# This machine's name among sandbox hosts: clusters live on the host that created them, and
# that host's worker consumes its own queue (CELERY_QUEUE.<host>) for deleting them.
LAB_HOST = env_str("LAB_HOST", os.uname().nodename)
# This lab instance's id among the labs that may share one Docker host: the Docker networks of
# its kind clusters carry it, and it lists (and so reconciles) only clusters that do. Generated
# once into the data directory, like the secret key, unless set (it is not a secret).
LAB_INSTANCE_ID = env_secret("LAB_INSTANCE_ID", generated_file=DATA_DIR / "instance_id")
SANDBOX_DIR = DATA_DIR / "sandboxes"
# A learner's cluster is deleted after this long without activity; they are warned first.
SANDBOX_IDLE_TIMEOUT = env_int("SANDBOX_IDLE_TIMEOUT", 60 * 60, minimum=60)
SANDBOX_WARN_BEFORE = env_int("SANDBOX_WARN_BEFORE", 5 * 60, minimum=0)
# Quotas: active sandboxes one learner may hold, and clusters one host runs per tier.
SANDBOX_PER_LEARNER = env_int("SANDBOX_PER_LEARNER", 1, minimum=1)
SANDBOX_CAPACITY = {
    "api": env_int("SANDBOX_CAPACITY_API", 30, minimum=0),
    "full": env_int("SANDBOX_CAPACITY_FULL", 4, minimum=0),
}
# Warm pool: clusters kept ready per tier so a learner's start is a claim, not a create.
SANDBOX_POOL = {
    "api": env_int("SANDBOX_POOL_API", 2, minimum=0),
    "full": env_int("SANDBOX_POOL_FULL", 0, minimum=0),
}
# A create that takes longer than this is given up (and its cluster deleted).
SANDBOX_CREATE_TIMEOUT = {
    "api": env_int("SANDBOX_CREATE_TIMEOUT_API", 120, minimum=10),
    "full": env_int("SANDBOX_CREATE_TIMEOUT_FULL", 600, minimum=30),
}
SANDBOX_CREATE_RETRIES = env_int("SANDBOX_CREATE_RETRIES", 2, minimum=0)
# How long a worker's "I am creating this cluster" mark outlives the worker (it is renewed
# every quarter of this while the worker lives).
SANDBOX_MARKER_TTL = env_int("SANDBOX_MARKER_TTL", 45, minimum=4)
# The web terminal: how long a shell outlives its last viewer, how much output it keeps for a
# reloaded page, how many terminals one learner may have open, and the first of the host uids
# the jailed shells run as.
TERMINAL_SESSION_TTL = env_int("TERMINAL_SESSION_TTL", 15 * 60, minimum=1)
TERMINAL_RING_BYTES = env_int("TERMINAL_RING_BYTES", 1024 * 1024, minimum=256 * 1024)
TERMINAL_MAX_PER_LEARNER = env_int("TERMINAL_MAX_PER_LEARNER", 4, minimum=1)
TERMINAL_UID_BASE = env_int("TERMINAL_UID_BASE", 200000, minimum=1000)
# Limits of each learner's jail (api tier), shared by their terminal's shell and every check and
# setup script of their sandbox: tasks (processes and threads), memory (tmpfs included), CPU
# weight against other jails and ceiling (percent of one core), the private /tmp and the home
# (its own filesystem, sized when the sandbox's home is first made). Needs root and cgroup v1;
# without them the lab logs that jails are unbounded.
JAIL_PIDS_MAX = env_int("JAIL_PIDS_MAX", 512, minimum=32)
JAIL_MEMORY_BYTES = env_int("JAIL_MEMORY_BYTES", 1024 * 1024 * 1024, minimum=64 * 1024 * 1024)
JAIL_CPU_SHARES = env_int("JAIL_CPU_SHARES", 512, minimum=2)
JAIL_CPU_PERCENT = env_int("JAIL_CPU_PERCENT", 100, minimum=1)
JAIL_TMP_BYTES = env_int("JAIL_TMP_BYTES", 256 * 1024 * 1024, minimum=1024 * 1024)
JAIL_HOME_BYTES = env_int("JAIL_HOME_BYTES", 1024 * 1024 * 1024, minimum=32 * 1024 * 1024)
# Live grading re-evaluates an open lesson's checks this often (seconds), and at once when the
# learner runs a command.
GRADING_INTERVAL = env_float("GRADING_INTERVAL", 1.0)
# Who may watch a learner's terminal besides its owner: a function (instructor, learner id) -> bool.
SANDBOX_WATCH_POLICY = env_str("SANDBOX_WATCH_POLICY", "classes.policy.teaches")
# Every sandbox host beat should reconcile (each host's worker compares its own backends).
LAB_HOSTS = env_list("LAB_HOSTS", [LAB_HOST])
for _host in LAB_HOSTS:
    CELERY_BEAT_SCHEDULE[f"reconcile-{_host}"] = {
        "task": "sandboxes.tasks.reconcile", "schedule": 60.0,
        "options": {"queue": f"{CELERY_TASK_DEFAULT_QUEUE}.{_host}"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

HEALTHZ_WORKER_TIMEOUT = env_float("HEALTHZ_WORKER_TIMEOUT", 1.5)

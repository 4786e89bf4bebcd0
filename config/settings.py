"""Settings for the casino payments back office.

Everything that differs between machines comes from the environment; the defaults
work on a development machine with PostgreSQL and Redis on localhost.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from config import queues

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # Sessions, CSRF and password-reset links are signed with it: a default would be a
        # key everyone knows. `make run` keeps a random one in var/local.env.
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG off the product does not start without it: "
            "set DJANGO_SECRET_KEY to a long random value (`make run` writes one into var/local.env), "
            "or set DJANGO_DEBUG=1 on a development machine."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    # The product, platform layer first (docs/architecture.md).
    "core",
    "tenants",
    "players",
    "wallet",
    "payouts",
    "payouts.sandbox",
    "games",
    "reconciliation",
    "backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestContextMiddleware",
    "core.middleware.RequestBodyLimitMiddleware",  # before anything reads a body
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ConsoleLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out logins before checking passwords
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:queue"

# Hostile input (docs/architecture.md): a larger body is answered 413 PAYLOAD_TOO_LARGE unread.
# Django's own limit is the same, for whatever reads a body without the middleware in front.
MAX_REQUEST_BODY_BYTES = int(os.environ.get("MAX_REQUEST_BODY_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# Refused unauthenticated requests (bad webhook signatures, failed sign-ins) per source
# address and minute; past this, 429 and no database write (core/refusals.py).
REFUSALS_PER_MINUTE = int(os.environ.get("REFUSALS_PER_MINUTE", "60"))

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default="postgres://postgres@127.0.0.1:5432/casino_payments",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        # A health check is one more round trip per request; off by default. A request that
        # meets a dead connection fails cleanly (503) and is retried with its idempotency key.
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", False),
    )
}
# Server-side parameters and prepared statements: psycopg prepares a statement after it
# ran 5 times on a connection, so PostgreSQL parses and plans the hot ones once.
DATABASES["default"].setdefault("OPTIONS", {}).update(
    server_side_binding=env_bool("DATABASE_SERVER_SIDE_BINDING", True),
    prepare_threshold=int(os.environ.get("DATABASE_PREPARE_THRESHOLD", "5")),
)
# A streaming replica for reads that may be a few seconds stale: console lists, the operator
# API's lists, reports and reconciliation (core/replica.py, docs/scaling.md). Unset: every read
# is the primary's. Money writes, reads under a lock and reads inside a transaction never go there.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=DATABASES["default"]["CONN_HEALTH_CHECKS"],
    )
    DATABASES["replica"]["OPTIONS"] = {
        **DATABASES["default"]["OPTIONS"],
        # A replica that does not answer is given up quickly: its reads go to the primary.
        "connect_timeout": int(os.environ.get("DATABASE_REPLICA_CONNECT_TIMEOUT", "2")),
    }
    # The test runner neither creates nor flushes it: it is a copy of the primary.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    # After a browser's write, its reads come from the primary for a few seconds (read your writes).
    MIDDLEWARE.append("core.replica.PrimaryAfterWriteMiddleware")
# Beyond this replay lag reads go to the primary; probed at most this often per process.
DATABASE_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("DATABASE_REPLICA_MAX_LAG_SECONDS", "5"))
DATABASE_REPLICA_CHECK_SECONDS = float(os.environ.get("DATABASE_REPLICA_CHECK_SECONDS", "2"))
# Writes go to the primary whichever server a row was read from; only the primary is migrated.
DATABASE_ROUTERS = ["core.replica.PrimaryRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "casino"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Operator security -------------------------------------------------------------
# Production is the default; `make run` (the demo over plain HTTP) turns off what needs
# TLS and the second factor with DJANGO_SECURE_COOKIES=0 and OPERATOR_2FA_REQUIRED=0.
OPERATOR_2FA_REQUIRED = env_bool("OPERATOR_2FA_REQUIRED", True)
SECURE_COOKIES = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))  # idle timeout...
SESSION_SAVE_EVERY_REQUEST = True  # ...renewed by every request
# In the database: the player page's API tokens refer to their session's row and end with it.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if SECURE_COOKIES else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_COOKIES
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_COOKIES)
# Plain HTTP is answered with a redirect to HTTPS wherever cookies are secure; behind a
# TLS-terminating proxy, DJANGO_BEHIND_TLS_PROXY=1 makes its X-Forwarded-Proto count.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", SECURE_COOKIES)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_TLS_PROXY", False) else None
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "console/locked_out.html"
AXES_VERBOSE = False
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Casino Payments")
# Operators' API tokens (made on the console's API tokens page) expire after this many days.
OPERATOR_TOKEN_DAYS = int(os.environ.get("OPERATOR_API_TOKEN_DAYS", "30"))

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("tr", "Türkçe")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Celery: Redis as broker; results are not needed (tasks record outcomes in PostgreSQL).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Longer than the longest task countdown (backoff caps at 300 s), so a task waiting for its
# ETA is never handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
# Queues by workload (config/queues.py: payouts, webhooks, games, reconciliation,
# housekeeping), routed by task name, each consumed by its own workers (Procfile).
# CELERY_QUEUE sends every task to that one queue instead (a test's or a benchmark's own
# worker); CELERY_QUEUE_PREFIX names a separate set of the workload queues (a simulation's).
_ONE_QUEUE = os.environ.get("CELERY_QUEUE", "")
_QUEUE_PREFIX = os.environ.get("CELERY_QUEUE_PREFIX", "")
CELERY_TASK_ROUTES = {} if _ONE_QUEUE else queues.task_routes(_QUEUE_PREFIX)
CELERY_TASK_DEFAULT_QUEUE = _ONE_QUEUE or _QUEUE_PREFIX + queues.DEFAULT
# A worker started without -Q consumes every one of them. Each has its own direct
# exchange and routing key (Celery's defaults would bind all of them to the default one).
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in ([_ONE_QUEUE] if _ONE_QUEUE else queues.all_queues(_QUEUE_PREFIX))
]
# Workers keep their database connections between tasks (config/celery.py closes them as
# Django does after a request: past CONN_MAX_AGE or unusable). Celery's Django fixup would
# close them before and after every task; with this count it never gets there.
CELERY_DB_REUSE_MAX = 2**62
from celery.schedules import crontab  # noqa: E402 - next to the schedule that uses it

CELERY_BEAT_SCHEDULE: dict = {
    "expire-idempotency-records": {"task": "core.expire_idempotency_records", "schedule": 15 * 60},
    "expire-policy-changes": {"task": "tenants.expire_policy_changes", "schedule": 5 * 60},
    "clear-expired-sessions": {"task": "players.clear_expired_sessions", "schedule": 60 * 60},
    "flush-refusal-tallies": {"task": "core.flush_refusal_tallies", "schedule": 60},
    "poll-pending-payouts": {"task": "payouts.poll_pending_payouts", "schedule": 60},
    "sweep-open-deposits": {"task": "payouts.sweep_open_deposits", "schedule": 5 * 60},
    "close-idle-game-rounds": {"task": "games.close_idle_rounds", "schedule": 60},
    # Incremental every night (what changed since the last checkpoint), full every Sunday (all history).
    "reconciliation-nightly": {"task": "reconciliation.nightly_run", "schedule": crontab(hour=3, minute=30)},
    "reconciliation-weekly-full": {
        "task": "reconciliation.weekly_full_run",
        "schedule": crontab(hour=4, minute=30, day_of_week="sun"),
    },
}

# Payment service providers: name -> adapter class. Tenants pick one in ProviderAccount.
PAYMENT_PROVIDERS = {"sandbox": "payouts.providers.sandbox.SandboxProvider"}
PSP_TIMEOUT_SECONDS = float(os.environ.get("PSP_TIMEOUT_SECONDS", "5"))
# A payout attempt with no outcome after this long is asked about by the poller.
PAYOUT_POLL_AFTER_SECONDS = int(os.environ.get("PAYOUT_POLL_AFTER_SECONDS", "120"))
# Deposits never completed at the PSP are closed as failed after this long.
DEPOSIT_EXPIRY_SECONDS = int(os.environ.get("DEPOSIT_EXPIRY_SECONDS", str(24 * 3600)))
SANDBOX_PSP_URL = os.environ.get("SANDBOX_PSP_URL", "http://127.0.0.1:8001")
SANDBOX_PSP_RETRY_BASE_SECONDS = float(os.environ.get("SANDBOX_PSP_RETRY_BASE_SECONDS", "2"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["players.auth.PlayerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.problems.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_PLAYER_RATE = os.environ.get("API_PLAYER_RATE", "300/min")

SPECTACULAR_SETTINGS = {
    "TITLE": "Casino payments API",
    "DESCRIPTION": (
        "Player wallet API of the casino payments back office. Amounts are decimal strings "
        "with an ISO 4217 currency; every error is RFC 9457 application/problem+json with a "
        "stable `error_code`; every POST that creates or moves money needs an Idempotency-Key."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs pages are public and read no token: a client holding either kind
    # (player or operator) fetches them with its usual Authorization header.
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "DepositStateEnum": "wallet.models.transactions.DepositState",
        "WithdrawalStateEnum": "wallet.models.transactions.WithdrawalState",
        "TransactionStateEnum": "wallet.api.serializers.ALL_STATES",
        "CurrencyEnum": "core.money.CURRENCY_CODES",
        "KycStatusEnum": "players.models.KycStatus",
        "ExclusionKindEnum": "players.models.Exclusion.Kind",
        "LimitKindEnum": "players.models.LimitKind",
        "LimitPeriodEnum": "players.models.LimitPeriod",
        "RiskFlagEnum": "wallet.risk.FLAGS",
        "PaymentMethodKindEnum": "wallet.models.methods.PaymentMethodKind",
    },
    # Security schemes come from each view's authentication: players.auth, tenants.auth.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_links",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The game wallet (games/, docs/game-wallet.md).
# A provider account and its active secrets are kept this long in each process's memory,
# so a provider call spends no query on them; changes reach other processes this late.
GAME_PROVIDER_CACHE_SECONDS = float(os.environ.get("GAME_PROVIDER_CACHE_SECONDS", "5"))
# How long a game session takes bets after it starts (wins and rollbacks land at any time).
GAME_SESSION_SECONDS = int(os.environ.get("GAME_SESSION_SECONDS", str(4 * 3600)))
# The API base put into launch URLs ({api_base}); empty: the address the player's request came to.
GAME_API_BASE_URL = os.environ.get("GAME_API_BASE_URL", "")

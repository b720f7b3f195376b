"""propfee settings, read from the environment.

DATABASE_URL        database (default: SQLite file in PROPFEE_DATA_DIR)
PROPFEE_DATA_DIR    folder for the SQLite file, the dev secret key and uploads (default ./data)
SECRET_KEY          secret key (default: generated once and kept in PROPFEE_DATA_DIR/secret_key)
DEBUG               "1"/"true" to turn debug on (default off)
ALLOWED_HOSTS       comma-separated host names (default 127.0.0.1,localhost)
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE

PACKAGE_DIR = Path(__file__).resolve().parent


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("PROPFEE_DATA_DIR", Path.cwd() / "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_flag("DEBUG")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "propfee.core",
    "propfee.estates",
    "propfee.billing",
    "propfee.ledger",
    "propfee.payments",
    "propfee.collection",
    "propfee.messaging",
    "propfee.documents",
    "propfee.analytics",
    "propfee.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "propfee.core.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "propfee.urls"
WSGI_APPLICATION = "propfee.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "propfee.web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'propfee.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed during writes; a busy timeout instead of "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Assets ship inside the package and are served by WhiteNoise straight from the app folders,
# so the system works offline without a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "propfee API",
    "DESCRIPTION": "物业费收缴与催收系统 REST API. Amounts are decimal strings in yuan.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc are served from the package (WhiteNoise), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "StaffRoleEnum": "propfee.core.roles.Role",
        "PartyRoleEnum": "propfee.estates.constants.PartyRole",
    },
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("PROPFEE_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Callback tokens never reach a log line (propfee.core.logs); set here, so any handler
    # made from this configuration carries the filter.
    "filters": {"redact_tokens": {"()": "propfee.core.logs.TokenRedaction"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Messaging channels: which backend sends each channel (console = log only, contacts nobody).
# Credentials come from the environment only; docs/operations.md lists the variables.
PROPFEE_MESSAGING = {
    "sms": os.environ.get("PROPFEE_SMS_BACKEND", "console"),  # console | aliyun | tencent
    "email": os.environ.get("PROPFEE_EMAIL_BACKEND", "console"),  # console | smtp
    "wechat": os.environ.get("PROPFEE_WECHAT_BACKEND", "console"),  # console | wechat
}
PROPFEE_ALIYUN_SMS = {
    "ACCESS_KEY_ID": os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID", ""),
    "ACCESS_KEY_SECRET": os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ""),
    "SIGN_NAME": os.environ.get("PROPFEE_ALIYUN_SMS_SIGN_NAME", ""),
    "ENDPOINT": os.environ.get("PROPFEE_ALIYUN_SMS_ENDPOINT", "dysmsapi.aliyuncs.com"),
    "CALLBACK_TOKEN": os.environ.get("PROPFEE_ALIYUN_SMS_CALLBACK_TOKEN", ""),
}
PROPFEE_TENCENT_SMS = {
    "SECRET_ID": os.environ.get("TENCENTCLOUD_SECRET_ID", ""),
    "SECRET_KEY": os.environ.get("TENCENTCLOUD_SECRET_KEY", ""),
    "SDK_APP_ID": os.environ.get("PROPFEE_TENCENT_SMS_SDK_APP_ID", ""),
    "SIGN_NAME": os.environ.get("PROPFEE_TENCENT_SMS_SIGN_NAME", ""),
    "REGION": os.environ.get("PROPFEE_TENCENT_SMS_REGION", "ap-guangzhou"),
    "ENDPOINT": os.environ.get("PROPFEE_TENCENT_SMS_ENDPOINT", "sms.tencentcloudapi.com"),
    "FEN_PER_MESSAGE": int(os.environ.get("PROPFEE_TENCENT_SMS_FEN_PER_MESSAGE", "0")),
    "CALLBACK_TOKEN": os.environ.get("PROPFEE_TENCENT_SMS_CALLBACK_TOKEN", ""),
}
PROPFEE_WECHAT = {
    "APP_ID": os.environ.get("PROPFEE_WECHAT_APP_ID", ""),
    "APP_SECRET": os.environ.get("PROPFEE_WECHAT_APP_SECRET", ""),
    "API_BASE": os.environ.get("PROPFEE_WECHAT_API_BASE", "https://api.weixin.qq.com"),
    "TEMPLATE_URL": os.environ.get("PROPFEE_WECHAT_TEMPLATE_URL", ""),
    "CALLBACK_TOKEN": os.environ.get("PROPFEE_WECHAT_CALLBACK_TOKEN", ""),
    # 安全模式: the EncodingAESKey from the WeChat console; set, only encrypted events are taken.
    "ENCODING_AES_KEY": os.environ.get("PROPFEE_WECHAT_ENCODING_AES_KEY", ""),
}

# Runs and callbacks (issue 9). A daily run's lock row (SQLite) whose heartbeat is older than
# this is left over from a dead run and is taken over (PostgreSQL uses an advisory lock).
PROPFEE_RUN_LOCK_STALE_SECONDS = int(os.environ.get("PROPFEE_RUN_LOCK_STALE_SECONDS", "600"))
# How far ahead of our clock an SMS provider's delivery-report time may be and still restart
# the limitation clock (a report dated before sending or further ahead never does).
PROPFEE_DELIVERY_REPORT_SKEW_SECONDS = int(
    os.environ.get("PROPFEE_DELIVERY_REPORT_SKEW_SECONDS", "300")
)

# Domain settings.
PROPFEE_PAGE_SIZE = 50
PROPFEE_EXPORT_MAX_ROWS = 200_000
# Penalty reasonableness bound (违约金合理性): the loss of unpaid principal at the 1-year LPR
# (percent a year), times the multiplier (+30%); docs/definitions.md §6.
PROPFEE_PENALTY_LPR_PERCENT = os.environ.get("PROPFEE_PENALTY_LPR_PERCENT", "3.0")
PROPFEE_PENALTY_BOUND_MULTIPLIER = os.environ.get("PROPFEE_PENALTY_BOUND_MULTIPLIER", "1.3")
PROPFEE_NAV_SECTIONS = [
    "dashboard",
    "board",
    "today",
    "cases",
    "plans",
    "issues",
    "holds",
    "legal",
    "limitation",
    "collection",
    "policies",
    "estates",
    "units",
    "parties",
    "imports",
    "billing",
    "waivers",
    "reports",
    "messages",
    "documents",
    "audit",
]

# Documents (文书): the CJK TrueType font PDFs embed (blank: AR PL UMing, else WenQuanYi Micro
# Hei, from Debian's packages), how to pay as printed on demands, and the law firm that signs
# lawyer letters. docs/operations.md, "文书 / Documents".
PROPFEE_PDF_FONT = os.environ.get("PROPFEE_PDF_FONT", "")
PROPFEE_HOW_TO_PAY = os.environ.get(
    "PROPFEE_HOW_TO_PAY",
    "请到物业服务中心前台缴纳（现金、POS刷卡），或通过微信、支付宝、银行转账缴纳，"
    "转账时请注明房屋编码。",
)
PROPFEE_LAW_FIRM = {
    "name": os.environ.get("PROPFEE_LAW_FIRM_NAME", ""),
    "address": os.environ.get("PROPFEE_LAW_FIRM_ADDRESS", ""),
    "phone": os.environ.get("PROPFEE_LAW_FIRM_PHONE", ""),
    "lawyer": os.environ.get("PROPFEE_LAW_FIRM_LAWYER", ""),
}

# Messages (消息): when and how often a unit may be contacted, retries, and the e-mail server.
# Contact hours can only be narrowed within 08:00–22:00; docs/operations.md, "消息 / Messages".
PROPFEE_MESSAGE_HOURS = (
    os.environ.get("PROPFEE_MESSAGE_START", "08:00"),
    os.environ.get("PROPFEE_MESSAGE_END", "21:00"),
)
PROPFEE_MESSAGE_SKIP_HOLIDAYS = _env_flag("PROPFEE_MESSAGE_SKIP_HOLIDAYS", True)
PROPFEE_MESSAGE_CAP_DAY = int(os.environ.get("PROPFEE_MESSAGE_CAP_DAY", "2"))
PROPFEE_MESSAGE_CAP_WEEK = int(os.environ.get("PROPFEE_MESSAGE_CAP_WEEK", "5"))
PROPFEE_MESSAGE_MAX_ATTEMPTS = int(os.environ.get("PROPFEE_MESSAGE_MAX_ATTEMPTS", "5"))
PROPFEE_MESSAGE_RETRY_SECONDS = int(os.environ.get("PROPFEE_MESSAGE_RETRY_SECONDS", "60"))
PROPFEE_MESSAGE_DEADLINE_DAYS = int(os.environ.get("PROPFEE_MESSAGE_DEADLINE_DAYS", "15"))
# The owner's payment page printed in messages; {unit_code} is replaced by the unit's code.
PROPFEE_PAYMENT_LINK = os.environ.get("PROPFEE_PAYMENT_LINK", "")
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_flag("EMAIL_USE_TLS")
EMAIL_USE_SSL = _env_flag("EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "propfee@localhost")

# Legal matters (法律事务): the small-claims ceiling per province in yuan (民事诉讼法 art. 165:
# 50% of the province's prior-year average annual wage of employed persons, published each year
# by the provincial high court). EXAMPLE VALUES, TO BE VERIFIED against the current publication
# before use; docs/operations.md, "法律事务 / Legal matters".
PROPFEE_SMALL_CLAIMS_LIMITS: dict[str, int] = {
    "北京市": 110_000,
    "上海市": 110_000,
    "浙江省": 70_000,
    "江苏省": 65_000,
    "广东省": 65_000,
}
# City → province for the estates' `city` (a municipality is its own province).
PROPFEE_CITY_PROVINCE: dict[str, str] = {
    "北京": "北京市",
    "上海": "上海市",
    "天津": "天津市",
    "重庆": "重庆市",
    "杭州": "浙江省",
    "宁波": "浙江省",
    "温州": "浙江省",
    "南京": "江苏省",
    "苏州": "江苏省",
    "广州": "广东省",
    "深圳": "广东省",
    "福州": "福建省",
    "厦门": "福建省",
}
# Cities or provinces whose local property regulation provides credit referral (征信) of a
# property-fee debtor after an unpaid judgment. Empty: the flag is never set.
PROPFEE_CREDIT_REFERRAL_REGIONS: list[str] = []

# Security: logins, sessions, HTTPS, CSP. docs/operations.md, "Security".
# Sign-in protection (django-axes): after PROPFEE_LOGIN_FAILURE_LIMIT failed sign-ins, each
# less than PROPFEE_LOGIN_COOLOFF_MINUTES after the last, the username — and, separately, the
# client address — is held back for the cool-off, or until `propfee login unlock`.
INSTALLED_APPS += ["axes", "csp"]
AUTHENTICATION_BACKENDS = [
    "propfee.core.logins.LoginGuardBackend",
    "django.contrib.auth.backends.ModelBackend",
]
MIDDLEWARE += [
    "propfee.core.middleware.NoStoreWhenSignedInMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the 登录锁定 page or a 429
]
PROPFEE_LOGIN_FAILURE_LIMIT = int(os.environ.get("PROPFEE_LOGIN_FAILURE_LIMIT", "10"))
PROPFEE_LOGIN_COOLOFF_MINUTES = int(os.environ.get("PROPFEE_LOGIN_COOLOFF_MINUTES", "15"))
# How many reverse proxies (nginx, a load balancer) stand in front of propfee: the client
# address is then read from X-Forwarded-For, counted from the right. 0: REMOTE_ADDR.
PROPFEE_PROXY_COUNT = int(os.environ.get("PROPFEE_PROXY_COUNT", "0"))
AXES_FAILURE_LIMIT = PROPFEE_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=PROPFEE_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "propfee.core.logins.LoginGuardHandler"
AXES_LOCKOUT_CALLABLE = "propfee.web.views.account.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "propfee.core.logins.client_ip"
# API tokens expire PROPFEE_API_TOKEN_TTL_DAYS after they are made; a password change revokes.
PROPFEE_API_TOKEN_TTL_DAYS = int(os.environ.get("PROPFEE_API_TOKEN_TTL_DAYS", "90"))
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "propfee.core.credentials.ExpiringTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]
# The OpenAPI schema and its docs page are for signed-in staff only.
SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] = ["rest_framework.permissions.IsAuthenticated"]

# HTTPS: PROPFEE_HTTPS=1 when the site is reached over https:// (behind a TLS-terminating
# proxy that sets X-Forwarded-Proto): secure cookies, redirect to https, HSTS. Each setting may
# be overridden by its own variable of the same name.
PROPFEE_HTTPS = _env_flag("PROPFEE_HTTPS")
SESSION_COOKIE_SECURE = _env_flag("SESSION_COOKIE_SECURE", PROPFEE_HTTPS)
CSRF_COOKIE_SECURE = _env_flag("CSRF_COOKIE_SECURE", PROPFEE_HTTPS)
SECURE_SSL_REDIRECT = _env_flag("SECURE_SSL_REDIRECT", PROPFEE_HTTPS)
SECURE_HSTS_SECONDS = int(
    os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600) if PROPFEE_HTTPS else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", PROPFEE_HTTPS)
# Preloading into browsers is the domain owner's decision (hstspreload.org), so it is off unless
# asked for, and Django's reminder about it is silenced.
SECURE_HSTS_PRELOAD = _env_flag("SECURE_HSTS_PRELOAD")
if not SECURE_HSTS_PRELOAD:  # added to whatever else is silenced above
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]
_proxy_ssl_header = os.environ.get(
    "PROPFEE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if PROPFEE_HTTPS else ""
)
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _proxy_ssl_header.upper().replace("-", "_"),
        "https",
    )
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 3600)))
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every page (django-csp): scripts, styles, fonts and images only
# from the site itself (htmx, Bootstrap and ECharts are served from the package). A page that
# needs an inline block (the API docs) marks it with the request's nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Uploads (上传文件): size caps by kind, in bytes; the import's row and cell caps and how large
# an XLSX may unpack to. Uploads above FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file, so
# a large upload is never held in memory whole. docs/operations.md, "Security".
PROPFEE_UPLOAD_MAX_BYTES = {
    "contract": int(os.environ.get("PROPFEE_UPLOAD_MAX_CONTRACT_BYTES", 10 * 1024 * 1024)),
    "evidence": int(os.environ.get("PROPFEE_UPLOAD_MAX_EVIDENCE_BYTES", 20 * 1024 * 1024)),
    "attachment": int(os.environ.get("PROPFEE_UPLOAD_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024)),
    "import": int(os.environ.get("PROPFEE_UPLOAD_MAX_IMPORT_BYTES", 20 * 1024 * 1024)),
}
PROPFEE_IMPORT_MAX_ROWS = int(os.environ.get("PROPFEE_IMPORT_MAX_ROWS", 200_000))
PROPFEE_IMPORT_MAX_CELLS = int(os.environ.get("PROPFEE_IMPORT_MAX_CELLS", 5_000_000))
PROPFEE_IMPORT_MAX_UNPACKED_BYTES = int(
    os.environ.get("PROPFEE_IMPORT_MAX_UNPACKED_BYTES", 256 * 1024 * 1024)
)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's default, 2.5 MB

# Lawful collection (issue 12): what a demand claims, what it carries, and the public arrears
# list's threshold. docs/compliance.md.
# The penalty a demand claims: "capped" at the reasonableness bound above (LPR × multiplier;
# the figure the unit page warns about) or the full "contract" penalty.
PROPFEE_DEMAND_PENALTY = os.environ.get("PROPFEE_DEMAND_PENALTY", "capped")
# Printed on notices and letters from the company: the service hotline and the company seal
# (a PNG/JPEG path; blank: the signature line only).
PROPFEE_SERVICE_HOTLINE = os.environ.get("PROPFEE_SERVICE_HOTLINE", "")
PROPFEE_SEAL_IMAGE = os.environ.get("PROPFEE_SEAL_IMAGE", "")
# 欠费公示: a unit is listed only when it owes at least this many months AND this much overdue
# principal (yuan), so small or recent debts stay off the list.
# Calls a day to a unit whose phone does not answer (banking guideline: ≤ 6 attempts a day).
PROPFEE_CALL_CAP_UNANSWERED = int(os.environ.get("PROPFEE_CALL_CAP_UNANSWERED", "6"))
PROPFEE_PUBLIC_LIST_MIN_MONTHS = int(os.environ.get("PROPFEE_PUBLIC_LIST_MIN_MONTHS", "3"))
PROPFEE_PUBLIC_LIST_MIN_YUAN = int(os.environ.get("PROPFEE_PUBLIC_LIST_MIN_YUAN", "500"))

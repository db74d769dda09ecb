# Shared install steps for scripts/test and scripts/serve (sourced, not run).
#
# On Debian it installs only what is missing (apt-get), keeps a virtualenv in .venv with
# Salen installed editable, and installs the npm packages from package-lock.json. Every
# step checks first, so a second run on a prepared machine goes straight through.

SALEN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SALEN_VENV="$SALEN_ROOT/.venv"
export DEBIAN_FRONTEND=noninteractive PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Tests drive Debian's /usr/bin/chromium; Playwright must never fetch a browser build.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

salen_step() {
    echo "==> $*" >&2
}

salen_die() {
    echo "error: $*" >&2
    exit 1
}

# Print the command prefix that gives root rights ("" when already root).
salen_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        echo ""
    elif command -v sudo >/dev/null 2>&1; then
        echo "sudo"
    else
        return 1
    fi
}

# apt-get install the given Debian packages (nothing happens for an empty list).
salen_apt_install() {
    [ "$#" -gt 0 ] || return 0
    command -v apt-get >/dev/null 2>&1 \
        || salen_die "missing system packages ($*) and no apt-get; install them by hand"
    local root
    root="$(salen_as_root)" || salen_die "need root or sudo to install: $*"
    salen_step "installing Debian packages: $*"
    $root apt-get update -qq
    $root apt-get install -y -qq --no-install-recommends "$@"
}

# A Python >= 3.11 interpreter that can create virtualenvs, or nothing.
salen_find_python() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
                >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# Install the Debian packages Salen needs; "test" adds the test servers and browser.
salen_system_packages() {
    local purpose="$1" missing=()
    salen_find_python >/dev/null || missing+=(python3 python3-venv)
    command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)  # the demo recording's speech
    if [ "$purpose" = test ]; then
        command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
        compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
        [ -x /usr/bin/chromium ] || missing+=(chromium)
        command -v ip >/dev/null 2>&1 || missing+=(iproute2)
        [ -x /usr/sbin/nginx ] || missing+=(nginx)  # the deployment test (deploy/nginx)
        command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)  # unit checks
    fi
    salen_step "system packages (${purpose}): ${missing[*]:-all present}"
    salen_apt_install "${missing[@]}"
}

# Create .venv if needed and install Salen editable with the given extras ("" or "test").
salen_python_env() {
    local extras="$1" spec="." python stamp installed
    [ -n "$extras" ] && spec=".[$extras]"
    if ! "$SALEN_VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        >/dev/null 2>&1; then
        python="$(salen_find_python)" || salen_die "no Python >= 3.11 with venv found"
        salen_step "creating virtualenv .venv with $python"
        rm -rf "$SALEN_VENV"
        "$python" -m venv "$SALEN_VENV"
    fi
    # The stamp is "<hash of pyproject.toml> <extras>"; an install with extras also
    # serves a request without them.
    stamp="$(sha256sum "$SALEN_ROOT/pyproject.toml" | cut -d' ' -f1)"
    installed="$(cat "$SALEN_VENV/.salen-install" 2>/dev/null || true)"
    if [ "$installed" = "$stamp $extras" ] || { [ -z "$extras" ] && [ "${installed%% *}" = "$stamp" ]; }; then
        salen_step "python packages: up to date"
        return 0
    fi
    salen_step "pip install -e '$spec'"
    (cd "$SALEN_ROOT" && "$SALEN_VENV/bin/python" -m pip install -q -e "$spec")
    echo "$stamp $extras" >"$SALEN_VENV/.salen-install"
}

# npm ci from package-lock.json unless node_modules already matches it.
salen_node_modules() {
    local stamp
    [ -f "$SALEN_ROOT/package-lock.json" ] || return 0
    stamp="$(cat "$SALEN_ROOT/package.json" "$SALEN_ROOT/package-lock.json" | sha256sum \
        | cut -d' ' -f1)"
    if [ "$(cat "$SALEN_ROOT/node_modules/.salen-install" 2>/dev/null)" = "$stamp" ]; then
        salen_step "npm packages: up to date"
        return 0
    fi
    salen_step "npm ci"
    (cd "$SALEN_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$stamp" >"$SALEN_ROOT/node_modules/.salen-install"
}

# Everything a purpose ("test" or "serve") needs, in order.
salen_setup() {
    local purpose="$1" extras=""
    [ "$purpose" = test ] && extras="test"
    salen_system_packages "$purpose"
    salen_python_env "$extras"
    salen_node_modules
}

#!/bin/sh
# deps.sh - installs the Debian packages given that are not installed yet
# Runs apt-get only when something is missing, with sudo when not root.
set -eu
missing=""
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
# prometheus is installed for promtool alone (tests/e2e/contracts.sh), but
# its package also enables and starts a Prometheus server (unless a
# policy-rc.d forbids it, as in containers): stop it, and keep it from
# starting at boot.
case " $missing " in
    *" prometheus "*)
        if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
            $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
        elif [ -x /etc/init.d/prometheus ]; then
            $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true
            $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
        fi ;;
esac

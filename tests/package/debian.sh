#!/bin/bash
#
# tests/package/debian.sh - the Debian package, built, linted, installed,
# used and purged on this host, as an admin would (CI step; as root).
#
#   1. dpkg-buildpackage -us -uc -b from a clean clone of the tree;
#   2. lintian: no error and no warning (what is left is explained in
#      debian/sherve.lintian-overrides);
#   3. apt-get install ./sherve_*.deb: the files, the conffiles, the
#      store directory (www-data, 0750), the units enabled, not started;
#   4. the settings in /etc/sherve/sherve.conf (a webroot and the fake
#      upstream's map), then lighty-enable-mod sherve in Debian's own
#      /etc/lighttpd, lighttpd on a test port: the site checks (asset +
#      ETag, 304, alias 301, 404, dotfile, 405), metrics from loopback
#      only, and `sherve status` with no flags showing the service's
#      config file, state dir and redirects-url;
#   5. the same for Apache with a2enconf sherve-fcgid (mod_fcgid), then
#      sherve-proxy-fcgi (mod_proxy_fcgi) in front of the pool that
#      sherve.service runs, started as systemd would start it; nginx with
#      snippets/sherve.conf in front of the same pool;
#   6. apt-get purge: every file the package installed and the store are
#      gone, the enabled snippets and unit links too, and the watched
#      trees of /etc, /lib/systemd and /var/lib are as they were before.
#
# The web servers run from Debian's own configuration trees, each with a
# copy of its top file that listens on a free 127.0.0.1 port and keeps
# its pid file and logs here; a running system lighttpd, Apache or nginx
# is left alone. Everything the test enabled that the package did not
# (mod_fastcgi, mod_proxy_fcgi) is put back as it was.
#
# Usage: tests/package/debian.sh [DEB]   (DEB: use that .deb, no build)
# Needs root and Debian's archive (apt-get installs the build tools).

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/../integration/servers.sh"

# The point of this test: every sherve reads /etc/sherve/sherve.conf.
unset SHERVE_CONFIG

[ "$(id -u)" -eq 0 ] || skip_all "needs root (installs the package)"
command -v apt-get >/dev/null 2>&1 || skip_all "not a Debian host"
export DEBIAN_FRONTEND=noninteractive

# policy-rc.d answering 101: installing or purging a package starts or
# restarts no service (ours are --no-start anyway; apache2's maintainer
# helper would reload a system Apache).
POLICY=/usr/sbin/policy-rc.d
POLICY_OURS=
if [ ! -e "$POLICY" ]; then
	printf '#!/bin/sh\n# tests/package/debian.sh\nexit 101\n' >"$POLICY"
	chmod 755 "$POLICY"
	POLICY_OURS=1
fi
RESTORE=()
# on_exit: undo what the test did to the system, newest first, even
# after a failure.
on_exit() {
	local i
	for ((i = ${#RESTORE[@]} - 1; i >= 0; i--)); do
		eval "${RESTORE[$i]}" >/dev/null 2>&1 || true
	done
	[ -z "$POLICY_OURS" ] || rm -f "$POLICY"
}
# t_cleanup (lib.sh) exits with the status it finds.
trap 'rc=$?; on_exit; (exit "$rc"); t_cleanup' EXIT

# ---------------------------------------------------------------- build

BUILD_PKGS=(debhelper lintian dpkg-dev fakeroot libcunit1-dev
	libcurl4-openssl-dev liblmdb-dev pkg-config python3 lighttpd apache2
	libapache2-mod-fcgid nginx curl systemd)
missing=()
for p in "${BUILD_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	note "apt-get install ${missing[*]}"
	apt-get update -q >"$T_TMP/apt.log" 2>&1
	apt-get install -y -q --no-install-recommends "${missing[@]}" \
		>>"$T_TMP/apt.log" 2>&1 ||
		hard_error "apt-get install failed: $(tail -n 5 "$T_TMP/apt.log")"
fi

DEB=${1:-}
if [ -z "$DEB" ]; then
	# Outside T_TMP, whose files lib.sh scans for sanitizer reports (the
	# sources quote their patterns).
	SRC=$(mktemp -d /tmp/sherve-deb.XXXXXX) || hard_error "mktemp failed"
	RESTORE+=("rm -rf '$SRC'")
	git clone -q "$TOP_SRCDIR" "$SRC/sherve" ||
		hard_error "cannot clone $TOP_SRCDIR"
	(cd "$SRC/sherve" && dpkg-buildpackage -us -uc -b) \
		>"$T_TMP/build.log" 2>&1
	rc=$?
	tail -n 3 "$T_TMP/build.log" | sed 's/^/# /'
	expect_eq "dpkg-buildpackage -us -uc -b exits 0" "$rc" 0
	[ "$rc" -eq 0 ] || { cat "$T_TMP/build.log"; finish; }
	DEB=$(ls "$SRC"/sherve_*_"$(dpkg --print-architecture)".deb)
	lintian --fail-on error,warning --display-info \
		"$SRC"/sherve_*.changes >"$T_TMP/lintian.log" 2>&1
	rc=$?
	sed 's/^/# lintian: /' "$T_TMP/lintian.log"
	expect_eq "lintian: no error, no warning (exit status)" "$rc" 0
	expect_eq "lintian: no E: or W: line" \
		"$(grep -c '^[EW]: ' "$T_TMP/lintian.log")" 0
fi
note "package: $DEB"

# ---------------------------------------------------------------- install

# The trees the package touches, listed with owner and mode.
WATCH=(/etc/sherve /etc/lighttpd /etc/apache2 /etc/nginx /etc/systemd/system
	/lib/systemd/system /var/lib/sherve /usr/sbin/sherve /usr/share/sherve
	/usr/share/doc/sherve /etc/cron.d)
snapshot() {
	find "${WATCH[@]}" -printf '%p %u:%g %m %y\n' 2>/dev/null | LC_ALL=C sort
}
snapshot >"$T_TMP/before.lst"
dpkg-query -W sherve >/dev/null 2>&1 &&
	hard_error "sherve is installed already: purge it first"

RESTORE+=("apt-get purge -y -q sherve")
apt-get install -y -q "$(realpath "$DEB")" >"$T_TMP/install.log" 2>&1
rc=$?
expect_eq "apt-get install ./sherve_*.deb exits 0" "$rc" 0
[ "$rc" -eq 0 ] || { cat "$T_TMP/install.log"; finish; }

check "/usr/sbin/sherve is installed" test -x /usr/sbin/sherve
for f in /usr/share/man/man8/sherve.8.gz /usr/share/man/man5/sherve.conf.5.gz \
	/usr/share/man/man5/sherve.redirects.5.gz /usr/share/doc/sherve/README.md.gz; do
	check "$f is installed" test -s "$f"
done
conffiles=$(dpkg-query -W -f='${Conffiles}\n' sherve | awk '{ print $1 }')
for f in /etc/sherve/sherve.conf /etc/lighttpd/conf-available/10-sherve.conf \
	/etc/apache2/conf-available/sherve-fcgid.conf \
	/etc/apache2/conf-available/sherve-proxy-fcgi.conf \
	/etc/nginx/snippets/sherve.conf; do
	expect_eq "$f is a conffile" \
		"$(printf '%s\n' "$conffiles" | grep -cx "$f")" 1
done
expect_eq "/var/lib/sherve: www-data, 0750 (postinst)" \
	"$(stat -c '%U:%G %a' /var/lib/sherve 2>&1)" 'www-data:www-data 750'
expect_eq "the units are in /lib/systemd/system" \
	"$(ls /lib/systemd/system/sherve.socket /lib/systemd/system/sherve.service 2>&1 | wc -l)" 2
expect_eq "the units name the packaged binary" \
	"$(sed -n 's/^ExecStart=//p' /lib/systemd/system/sherve.service)" \
	'/usr/sbin/sherve serve'
check "sherve.socket is enabled" \
	test -L /etc/systemd/system/sockets.target.wants/sherve.socket
check "sherve.service is not enabled (the socket starts it)" \
	test ! -e /etc/systemd/system/multi-user.target.wants/sherve.service
check "nothing was started: no /run/sherve/sherve.sock" \
	test ! -e /run/sherve/sherve.sock

# ---------------------------------------------------------------- settings

open_tmp_to_children
make_site
start_upstream
note "fake upstream on $UP"
# An admin's settings: the packaged file, with a webroot and a map.
sed -e "s|^webroot =.*|webroot = $W|" \
	-e "s|^redirects-url =.*|redirects-url = $UP/redirects.txt|" \
	/etc/sherve/sherve.conf >"$T_TMP/sherve.conf.new"
cat "$T_TMP/sherve.conf.new" >/etc/sherve/sherve.conf
expect_eq "the settings are in /etc/sherve/sherve.conf" \
	"$(grep -c -e "^webroot = $W\$" -e "^redirects-url = $UP/redirects.txt\$" \
		/etc/sherve/sherve.conf)" 2

# status_checks LABEL: `sherve status` as an admin (root, no flag, no
# SHERVE_* variable) reports what the running service uses: the file,
# the store the service filled (the test stored nothing itself), and
# the URL it fetched.
status_checks() {
	local l=$1
	check_exit "[$l] sherve status, no flags, exits 0" 0 \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sherve status
	sed 's/^/# status: /' "$C_OUT"
	expect_file_contains "[$l] status: config file /etc/sherve/sherve.conf" \
		"$C_OUT" 'config file     /etc/sherve/sherve.conf'
	expect_file_contains "[$l] status: state dir /var/lib/sherve" \
		"$C_OUT" 'state dir       /var/lib/sherve'
	expect_file_contains "[$l] status: the service's redirects-url" \
		"$C_OUT" "configured      $UP/redirects.txt"
	expect_file_contains "[$l] status: the map the service stored, from that URL" \
		"$C_OUT" "source          $UP/redirects.txt"
	expect_file_contains "[$l] status: its 2 aliases" "$C_OUT" \
		'aliases         2'
	expect_eq "[$l] the store is the service's (www-data wrote it)" \
		"$(find /var/lib/sherve -maxdepth 1 -name redirects.mdb -user www-data | wc -l)" 1
}

# readme_deb_steps FILE BLOCK: a contrib README's package block, line by
# line as root ("sudo " dropped). The install (done above, with the
# built .deb), the editor (the test wrote the settings), systemctl (the
# test runs the server from Debian's tree on a test port) and `sherve
# status` (status_checks) are the test's; every other line runs as
# printed and must exit 0.
readme_deb_steps() {
	local f=$TOP_SRCDIR/contrib/$1 line cmd
	readme_block "$f" "$2" >"$T_TMP/block" ||
		hard_error "$f: no block $2"
	while IFS= read -r line; do
		cmd=${line%%#*}
		cmd=${cmd#sudo }
		cmd=${cmd%"${cmd##*[! ]}"}
		case $cmd in
		'') ;;
		'apt-get install '* | sudoedit* | 'systemctl '* | 'sherve status')
			note "README $1 ($2): the test's own: $cmd"
			;;
		*)
			check_exit "README $1 ($2): $cmd" 0 bash -c "$cmd"
			sed 's/^/# /' "$C_OUT"
			;;
		esac
	done <"$T_TMP/block"
}

# ---------------------------------------------------------------- lighttpd

# lighttpd_conf RUN PORT: Debian's lighttpd.conf, listening on
# 127.0.0.1:PORT only, with its pid file and error log in RUN;
# conf-enabled is Debian's. (lighttpd opens its error log as www-data:
# it goes in RUN/log, theirs.)
lighttpd_conf() {
	give_to_child "$1/log"
	sed -e "s|^server.port .*|server.port = $2\nserver.bind = \"127.0.0.1\"|" \
		-e "s|^server.pid-file .*|server.pid-file = \"$1/lighttpd.pid\"|" \
		-e "s|^server.errorlog .*|server.errorlog = \"$1/log/error.log\"|" \
		-e '/use-ipv6.pl/d' /etc/lighttpd/lighttpd.conf
}

if [ ! -e /etc/lighttpd/conf-enabled/10-fastcgi.conf ]; then
	RESTORE+=("lighty-disable-mod fastcgi")
fi
RESTORE+=("lighty-disable-mod sherve")
readme_deb_steps lighttpd/README.md deb
check "10-sherve.conf is enabled" test -L /etc/lighttpd/conf-enabled/10-sherve.conf
check "its dependency mod_fastcgi is enabled" \
	test -e /etc/lighttpd/conf-enabled/10-fastcgi.conf
# What Debian's lighttpd.tmpfile.conf makes at boot (/run/lighttpd).
if [ ! -d /run/lighttpd ]; then
	RESTORE+=("rmdir /run/lighttpd")
	systemd-tmpfiles --create /usr/lib/tmpfiles.d/lighttpd.tmpfile.conf
fi
L_RUN=$T_TMP/run-deb
free_port port
lighttpd_conf "$L_RUN" "$port" >"$T_TMP/lighttpd.conf"
check_exit "lighttpd -tt accepts Debian's config with sherve enabled" 0 \
	lighttpd -tt -f "$T_TMP/lighttpd.conf"
log_file "$L_RUN/log/error.log"
if start_lighttpd --write lighttpd_conf deb; then
	site_checks deb-lighttpd "$B"
	metrics_acl_checks deb-lighttpd "$B"
	users=
	for p in $(descendants_of "$L_PID"); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = /usr/sbin/sherve ] &&
			users="$users $(ps -o user= -p "$p" | tr -d ' ')"
	done
	expect_eq "[deb-lighttpd] lighttpd runs sherve as www-data" \
		"$(printf '%s\n' $users | sort -u | tr -d '\n')" www-data
	status_checks deb-lighttpd
	check_exit "[deb-lighttpd] sherve refresh as www-data exits 0" 0 \
		setpriv --reuid=www-data --regid=www-data --init-groups -- \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sherve refresh
fi
stop_lighttpd
check_exit "lighty-disable-mod sherve exits 0" 0 lighty-disable-mod sherve

# ---------------------------------------------------------------- apache

APACHE=$(apache_path) || hard_error "apache2 is not installed"
# Debian's apache2.conf reads its directories from envvars' environment
# (apache_env puts them in the run directory).
APACHE_ENVVARS=/etc/apache2/envvars
# apache_conf RUN PORT: Debian's apache2.conf with its ports.conf
# replaced by one Listen on 127.0.0.1:PORT; mods-enabled and conf-enabled
# are Debian's.
apache_conf() {
	printf 'ServerRoot "/etc/apache2"\nServerName 127.0.0.1\n'
	sed -e "s|^Include ports.conf|Listen 127.0.0.1:$2|" \
		/etc/apache2/apache2.conf
}
# apache_start_deb NAME: start_apache with Debian's apache2.conf, once
# `apache2 -t` accepted it.
apache_start_deb() {
	local name=$1 d=$T_TMP/apache-$1 port
	mkdir -p "$d"
	apache_env "$d"
	free_port port
	apache_conf "$d" "$port" >"$d/httpd.conf"
	check_exit "[$name] apache2 -t accepts Debian's config" 0 \
		"${APACHE_ENV[@]}" "$APACHE" -t -f "$d/httpd.conf"
	sed 's/^/# /' "$C_OUT" "$C_ERR"
	log_file "$d/log/error.log"
	start_apache "$name" apache_conf
}
mods_enabled() {
	local m
	for m in "$@"; do
		[ -e "/etc/apache2/mods-enabled/$m.load" ] || return 1
	done
}

# mod_fcgid: sherve-fcgid.conf
mods_enabled fcgid || RESTORE+=("a2dismod -q -f fcgid")
RESTORE+=("a2disconf -q sherve-fcgid")
readme_deb_steps apache/README.md deb-fcgid
check "sherve-fcgid.conf is enabled" \
	test -L /etc/apache2/conf-enabled/sherve-fcgid.conf
if apache_start_deb deb-apache-fcgid; then
	site_checks deb-apache-fcgid "$B"
	metrics_acl_checks deb-apache-fcgid "$B"
	status_checks deb-apache-fcgid
fi
stop_pid "$A_PID"
check_exit "a2disconf sherve-fcgid exits 0" 0 a2disconf -q sherve-fcgid

# mod_proxy_fcgi: sherve-proxy-fcgi.conf, in front of the pool as
# sherve.socket and sherve.service run it: systemd-socket-activate
# listens on the unit's socket and execs the unit's ExecStart as its
# User= on the first connection. /run/sherve is what systemd would make
# (DirectoryMode=0755); without SocketMode, www-data owns the socket.
RESTORE+=("rm -rf /run/sherve")
install -d -o www-data -g www-data -m 0755 /run/sherve
SOCK=$(sed -n 's/^ListenStream=//p' /lib/systemd/system/sherve.socket)
read -r -a exec_start <<<"$(sed -n 's/^ExecStart=//p' /lib/systemd/system/sherve.service)"
unit_user=$(sed -n 's/^User=//p' /lib/systemd/system/sherve.service)
start_pool "$SOCK" 0 "$T_TMP/pool.log" setpriv --reuid="$unit_user" \
	--regid="$unit_user" --init-groups -- \
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	systemd-socket-activate -l "$SOCK" "${exec_start[@]}" ||
	fail "the pool's socket $SOCK" "not listening"
readme_deb_steps systemd/README.md deb

mods_enabled proxy proxy_fcgi || RESTORE+=("a2dismod -q -f proxy_fcgi proxy")
RESTORE+=("a2disconf -q sherve-proxy-fcgi")
readme_deb_steps apache/README.md deb-proxy-fcgi
check "sherve-proxy-fcgi.conf is enabled" \
	test -L /etc/apache2/conf-enabled/sherve-proxy-fcgi.conf
if apache_start_deb deb-apache-proxy; then
	site_checks deb-apache-proxy "$B"
	metrics_acl_checks deb-apache-proxy "$B"
	expect_eq "[deb-apache-proxy] the pool runs as the unit's User=" \
		"$(ps -o user= -p "$M_PID" | tr -d ' ')" "$unit_user"
	status_checks deb-apache-proxy
fi
stop_pid "$A_PID"
# sherve-proxy-fcgi stays enabled: purging must disable it (postrm), or
# its dangling link would keep Apache from starting.

# nginx: snippets/sherve.conf in a server block, the same pool.
# shellcheck disable=SC2034 # start_nginx (servers.sh) runs $NGINX
NGINX=$(nginx_path) || hard_error "nginx is not installed"
# deb_site PREFIX: an nginx.conf (start_nginx) with the README's server
# block as printed, but for its listen line: a free loopback port. Sets
# PORT and B.
deb_site() {
	free_port PORT
	B=http://127.0.0.1:$PORT
	readme_block "$TOP_SRCDIR/contrib/nginx/README.md" deb-site |
		sed "s/^\( *listen \)80;/\1127.0.0.1:$PORT;/" >"$1/site.conf"
	nginx_skeleton "$1" "$1/site.conf"
}
readme_deb_steps nginx/README.md deb
PRE=$T_TMP/nginx
mkdir -p "$PRE"
# The snippet and the fastcgi_params it includes are found from nginx's
# prefix (Debian's: /etc/nginx); this nginx's prefix is $PRE.
ln -s /etc/nginx/fastcgi_params "$PRE/fastcgi_params"
ln -s /etc/nginx/snippets "$PRE/snippets"
if start_nginx "$PRE" deb_site; then
	expect_file_contains "README nginx (deb-site): its server block, on the test port" \
		"$PRE/site.conf" "listen 127.0.0.1:$PORT;"
	site_checks deb-nginx "$B"
	metrics_acl_checks deb-nginx "$B"
fi
stop_pid "$N_PID"
stop_pool

# ---------------------------------------------------------------- purge

apt-get purge -y -q sherve >"$T_TMP/purge.log" 2>&1
rc=$?
expect_eq "apt-get purge sherve exits 0" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T_TMP/purge.log"
check "dpkg knows no sherve any more" \
	test -z "$(dpkg-query -W sherve 2>/dev/null)"
for f in /var/lib/sherve /etc/sherve /usr/sbin/sherve \
	/etc/lighttpd/conf-available/10-sherve.conf \
	/etc/apache2/conf-available/sherve-fcgid.conf \
	/etc/nginx/snippets/sherve.conf /lib/systemd/system/sherve.socket \
	/etc/apache2/conf-enabled/sherve-proxy-fcgi.conf \
	/etc/systemd/system/sockets.target.wants/sherve.socket; do
	check "purge: $f is gone" test ! -e "$f" -a ! -L "$f"
done
# What the test itself enabled (mod_fastcgi, proxy_fcgi) goes back as it
# was; then every watched tree must be as before the install.
for ((i = ${#RESTORE[@]} - 1; i >= 0; i--)); do
	case ${RESTORE[$i]} in
	*purge*) ;;
	*) eval "${RESTORE[$i]}" >/dev/null 2>&1 || true ;;
	esac
done
RESTORE=()
snapshot >"$T_TMP/after.lst"
diff "$T_TMP/before.lst" "$T_TMP/after.lst" >"$T_TMP/snapshot.diff"
expect_eq "purge: /etc, /lib/systemd, /var/lib, /usr as before the install" \
	"$(head -c 600 "$T_TMP/snapshot.diff")" ""

expect_no_5xx "no request got a 5xx"
finish

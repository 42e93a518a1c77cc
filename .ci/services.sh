#!/usr/bin/env bash
# Make sure the local services the tests use are up; start the ones that are not, with the
# commands this machine kind documents. Idempotent.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # port name
  for _ in $(seq 1 60); do up "$1" && return 0; sleep 1; done
  echo "error: $2 did not start on 127.0.0.1:$1" >&2
  return 1
}

if ! up 3306; then
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for 3306 MariaDB || exit 1
fi
if ! up 6379; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for 6379 Redis || exit 1
fi
if ! up 5432; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  wait_for 5432 PostgreSQL || exit 1
fi
echo "services up: MariaDB :3306, Redis :6379, PostgreSQL :5432"

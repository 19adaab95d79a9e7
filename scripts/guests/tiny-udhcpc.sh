#!/bin/sh
# udhcpc event script of the tiny test guest: applies the lease to the interface and records the address.
# shellcheck disable=SC2154 # udhcpc sets interface, ip, mask, router and dns in the environment.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ;;
  bound | renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for gateway in $router; do
      ip route add default via "$gateway" dev "$interface" && break
    done
    : >/etc/resolv.conf
    for server in $dns; do echo "nameserver $server" >>/etc/resolv.conf; done
    echo "$ip" >/run/ip
    ;;
esac
exit 0

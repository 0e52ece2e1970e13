#!/usr/bin/python3
"""mutants.py — the mutants of scripts/mutants.sh, and the helper that applies them.

Each mutant is a deliberate bug in one of the switch's main behaviours: one
or more edits (file, exact original text, replacement) and the tests that
must catch it, a short targeted subset (unit test binaries, `pytest -k`
selections). The original text must occur exactly once in its file: other
branches change these sources, and a mutant that no longer applies must say
so rather than mutate something else.

usage (from the repository root; mutants.sh is the driver):
  mutants.py count                number of mutants
  mutants.py name N               "<id> <one-line description>" of mutant N (1-based)
  mutants.py check                every mutant applies (originals found once); no change
  mutants.py apply N              apply mutant N, keeping the originals in BUILD/mutants/
  mutants.py restore              put back every file apply changed (idempotent)
  mutants.py tests N              the test commands of mutant N, one per line (shell words)
  mutants.py alltests             every distinct test command (for the baseline run)
"""
import os
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("XVS_BUILD", REPO / "build")).resolve()
BACKUP = BUILD / "mutants"


def unit(name):
    return [str(BUILD / "tests" / "unit" / name)]


def e2e(path, expr=None):
    argv = ["/usr/bin/python3", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
            f"tests/e2e/{path}"]
    return argv + (["-k", expr] if expr else [])


# (id, description, [(file, original, replacement), ...], [test argv, ...])
MUTANTS = [
    ("flood-to-ingress", "flooding also sends the frame back out of its ingress port",
     [("src/dp/stage_l2.c",
       "\t\tif (p == in_port)\n\t\t\tcontinue;\n", "")],
     [e2e("test_l2.py", "flood_reaches_only_same_vlan or arp_resolution")]),

    ("vlan-leak-flood", "flooding ignores the egress VLAN membership",
     [("src/dp/stage_l2.c",
       "if (!xvs_vlan_egress(&s->port[p].vlan, c->vid, &tagged_out[nt]))",
       "if (!xvs_vlan_egress(&s->port[p].vlan, c->vid, &tagged_out[nt]) && false)")],
     [e2e("test_l2.py", "flood_reaches_only_same_vlan")]),

    ("no-tag-push", "an untagged frame leaves a trunk port without its VLAN tag",
     [("src/dp/stage_l2.c",
       "\tuint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m, XVS_VLAN_HLEN);\n",
       "\treturn true;\n\tuint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m, XVS_VLAN_HLEN);\n")],
     [e2e("test_vlan.py", "trunk_egress_tags_by_vlan or trunk_ingress_tagged")]),

    ("no-tag-pop", "a tagged frame leaves an access port still tagged",
     [("src/dp/stage_l2.c",
       "\t\tmemmove(p + XVS_VLAN_HLEN, p, 2 * RTE_ETHER_ADDR_LEN);\n"
       "\t\trte_pktmbuf_adj(m, XVS_VLAN_HLEN);\n"
       "\t\tif (m->ol_flags & XVS_OL_REQUESTS)\n"
       "\t\t\tm->l2_len -= XVS_VLAN_HLEN; /* offload offsets follow the headers */\n",
       "")],
     [e2e("test_vlan.py", "trunk_egress_tags_by_vlan or trunk_ingress_tagged")]),

    ("no-mac-move", "a learned MAC seen on another port stays on its old port",
     [("src/core/fdb.c",
       "\t\tset_port(fdb, b, i, port, false);\n\t\tfdb->stats.moved++;\n",
       "\t\tfdb->stats.moved++;\n")],
     [unit("test_fdb"), e2e("test_fdb.py", "mac_move")]),

    ("no-aging", "dynamic entries never age out",
     [("src/core/fdb.c",
       "return a->now_ns > ls && a->now_ns - ls >= a->aging_ns;",
       "return a->now_ns > ls && a->now_ns - ls >= a->aging_ns && false;")],
     [unit("test_fdb")]),

    ("static-overwritten", "learning overwrites a static entry (and makes it dynamic)",
     [("src/core/fdb.c",
       "\t\t\tfdb->port[port].static_conflict++;\n\t\t\treturn -EPERM;\n",
       "\t\t\tfdb->port[port].static_conflict++;\n")],
     [unit("test_fdb"), e2e("test_fdb.py", "static_mac_add_del")]),

    ("uncounted-drop", "a unicast frame to its own ingress port is dropped uncounted",
     [("src/dp/stage_l2.c",
       "\t\t\tic->drop[XVS_DROP_same_port]++;\n", "")],
     [e2e("test_l2.py", "same_port")]),

    ("hairpin", "a unicast frame to a MAC on its own ingress port is sent back out of it",
     [("src/dp/stage_l2.c",
       "if (unlikely(out == in_port)) {", "if (unlikely(out == in_port && false)) {")],
     [e2e("test_l2.py", "same_port")]),

    ("truncated-accepted", "a frame whose 802.1Q tag is cut off is parsed as tagged",
     [("src/core/pkt_parse.h",
       "if (len < XVS_ETH_HLEN + XVS_VLAN_HLEN)\n\t\treturn XVS_PARSE_TRUNCATED_VLAN;",
       "if (len < XVS_ETH_HLEN + 2)\n\t\treturn XVS_PARSE_TRUNCATED_VLAN;")],
     [unit("test_pkt_parse"), e2e("test_malformed.py", "malformed_frames_are_counted")]),

    ("commit-after-reply", "a command is committed when the next one starts, after its reply",
     [("src/ctl/store.c",
       "\treturn exec(st, \"BEGIN IMMEDIATE\", err);\n",
       "\tsqlite3_exec(st->db, \"COMMIT\", NULL, NULL, NULL);\n"
       "\treturn exec(st, \"BEGIN IMMEDIATE\", err);\n"),
      ("src/ctl/store.c",
       "\treturn exec(st, \"COMMIT\", err);\n", "\t(void)err;\n\treturn 0;\n")],
     [e2e("test_persistence.py", "kill9_after_ack")]),

    ("out-of-range", "a number one above its range is accepted",
     [("src/core/config.c",
       "if (v < min || v > max)", "if (v < min || v > max + 1)")],
     [unit("test_config")]),

    ("rss-key-ignored", "software RSS hashes with the default key, not the port's",
     [("src/ctl/switch.c",
       "xvs_rss_table_init(t, c->key);", "xvs_rss_table_init(t, xvs_rss_default_key);")],
     [e2e("test_rss.py", "software_rss_puts_each_flow")]),

    ("reta-off-by-one", "software RSS reads the RETA entry after the right one",
     [("src/dp/worker.c",
       "dst[i] = p->rss_reta[h & p->rss_reta_mask];",
       "dst[i] = p->rss_reta[(h + 1) & p->rss_reta_mask];")],
     [e2e("test_rss.py", "software_rss_puts_each_flow")]),

    ("queue-on-inactive-worker", "rx queues are placed over the whole worker set, "
     "also on workers the port does not use",
     [("src/ctl/switch.c",
       "p->rxq[q].worker = set[q % k];", "p->rxq[q].worker = set[q % ns];")],
     [e2e("test_rss.py", "hardware_queues_each_on_its_worker")]),

    ("queue-on-stopped-worker", "after the worker count drops, ports keep queues on "
     "the workers that stopped",
     [("src/ctl/switch.c",
       "ot = rss_plan(p, s->n_workers);", "ot = rss_plan(p, xvs_dp.n_workers_max);")],
     [e2e("test_rss.py", "worker_count_change_moves_the_port")]),

    ("top-rate-wrong", "live xvsctl top shows half the packet rate",
     [("cli/top.c",
       "return (now - then) / dt;", "return (now - then) / dt / 2;")],
     [e2e("test_top.py", "rates_come_from_counter_deltas")]),

    # -- software TCP segmentation and guest length checks (src/dp/offload.c)
    ("tso-seq-wrong", "software TSO advances the sequence number by headers and payload",
     [("src/dp/offload.c",
       "\tit->seq += len;\n", "\tit->seq += it->hdr_len + len;\n")],
     [unit("test_offload_dpdk")]),

    ("tso-fin-every-segment", "software TSO leaves FIN and PSH on every segment, not the last only",
     [("src/dp/offload.c",
       "\tif (!last)\n\t\tflags_clear |= TCP_F_FIN | TCP_F_PSH;\n", "")],
     [unit("test_offload_dpdk")]),

    ("tso-cap-64", "a TSO frame of more segments than a tx burst is dropped (the old rte_gso cap)",
     [("src/dp/worker.c",
       "\t\t\tif (k == XVS_BURST) {\n\t\t\t\ttx_port(w, p, out, res, k);\n\t\t\t\tk = 0;\n",
       "\t\t\tif (k == XVS_BURST) {\n\t\t\t\trte_pktmbuf_free(it.m);\n"
       "\t\t\t\tit.m = NULL;\n\t\t\t\tit.failed = true;\n\t\t\t\tbreak;\n")],
     [e2e("test_offload.py", "v4-536")]),

    ("guest-ip-len-unchecked", "a guest's IPv4 total length past the frame is not refused",
     [("src/dp/offload.c",
       "if (tot < ihl || l2 + tot > m->pkt_len)", "if (tot < ihl)")],
     [unit("test_offload_dpdk")]),

    ("guest-ip6-len-unchecked", "a guest's IPv6 payload length past the frame is not refused",
     [("src/dp/offload.c",
       "\t\tif (ip_end > m->pkt_len)\n\t\t\treturn XVS_DROP_bad_l3_len;\n", "")],
     [unit("test_offload_dpdk")]),

    ("guest-tcp-doff-unchecked", "a guest's TCP data offset past the IP payload is not refused",
     [("src/dp/offload.c",
       "if (doff < sizeof(struct rte_tcp_hdr) || l4_off + doff > ip_end)",
       "if (doff < sizeof(struct rte_tcp_hdr))")],
     [unit("test_offload_dpdk")]),

    # -- MTU: egress drop and the af_packet ring
    ("no-egress-mtu", "a frame longer than the egress port's MTU is sent, not dropped",
     [("src/dp/stage_l2.c",
       "\tif (likely(max_in <= out->max_frame))\n\t\treturn false;\n",
       "\tif (likely(max_in <= out->max_frame) || true)\n\t\treturn false;\n")],
     [e2e("test_mtu.py", "jumbo_towards_1500_port_dropped_on_egress")]),

    ("afp-ring-1500", "an af_packet port's ring is sized for MTU 1500 whatever its MTU",
     [("src/dp/ports/afpacket.c",
       "xvs_afp_ring_for_mtu(c->mtu, (uint32_t)getpagesize(), &ring);",
       "xvs_afp_ring_for_mtu(1500, (uint32_t)getpagesize(), &ring);")],
     [e2e("test_mtu.py", "jumbo_ping_tap_to_afpacket_uplink")]),

    ("pcap-mtu-1500", "pcap ports are held to MTU 1500 (no jumbo frames)",
     [("src/core/port_mtu.c",
       "[XVS_PORT_PCAP] = {9000,", "[XVS_PORT_PCAP] = {1500,")],
     [e2e("test_mtu.py", "jumbo_frames_cross_a_pcap_port")]),

    ("mtu-kind-cap-ignored", "an MTU beyond what the port kind carries is accepted",
     [("src/core/port_mtu.c", "\tif (mtu <= max)\n", "\tif (mtu <= max || true)\n")],
     [unit("test_port_mtu"), e2e("test_mtu.py", "afxdp_refuses_an_mtu_it_cannot_carry")]),

    # -- flooding, config paths, FDB limit
    ("flood-copy-own-pool", "flood copies come from the frame's own pool (a tap's read pool)",
     [("src/dp/stage_l2.c",
       "struct rte_mempool *cp_pool = likely(m->pkt_len <= RTE_MBUF_DEFAULT_DATAROOM) ?\n"
       "\t\t\t\t\t      xvs_dp.flood_pool : xvs_dp.flood_big_pool;",
       "struct rte_mempool *cp_pool = m->pool;")],
     [e2e("test_flood.py", "broadcast_storm_does_not_starve")]),

    ("path-comma-allowed", "a path with ',' (a second DPDK device argument) is accepted",
     [("src/core/config.c",
       "if (c == ',' || c == '=')", "if (c == '=')")],
     [unit("test_config")]),

    ("path-equals-allowed", "a path with '=' (a DPDK key=value) is accepted",
     [("src/core/config.c",
       "if (c == ',' || c == '=')", "if (c == ',')")],
     [unit("test_config")]),

    ("path-relative-allowed", "a relative path (one that depends on xvsd's cwd) is accepted",
     [("src/core/config.c",
       "\tif (value[0] != '/')\n\t\treturn xvs_err_set(err, -EINVAL, \"port %s: %s \\\"%.64s\\\" is not",
       "\tif (false)\n\t\treturn xvs_err_set(err, -EINVAL, \"port %s: %s \\\"%.64s\\\" is not")],
     [unit("test_config")]),

    ("path-control-char-allowed", "a path with a control character is accepted",
     [("src/core/config.c",
       "\t\tif (c < 0x20 || c == 0x7f)\n", "\t\tif (false)\n")],
     [unit("test_config")]),

    ("mac-limit-plus-one", "a port learns one MAC more than its mac-limit",
     [("src/core/fdb.c",
       "if (ps->limit == 0 || ps->learned < ps->limit)",
       "if (ps->limit == 0 || ps->learned <= ps->limit)")],
     [unit("test_fdb")]),

    ("static-conflict-uncounted", "a source MAC that is static on another port is not counted "
     "on the port it came in on",
     [("src/core/fdb.c",
       "\t\t\tfdb->port[port].static_conflict++;\n", "")],
     [unit("test_fdb"), e2e("test_fdb.py", "static_conflict_forwarded_not_learned")]),

    # -- control plane
    ("publish-ignored", "port.add acknowledges a port whose publish failed",
     [("src/ctl/cmd_port.c",
       "\tif (r == 0)\n\t\tr = xvsd_publish_err(err);\n\tif (r < 0) {\n\t\t/* not published",
       "\tif (r == 0)\n\t\t(void)xvsd_publish_err(err);\n\tif (r < 0) {\n\t\t/* not published")],
     [e2e("test_faults.py", "publish_failure_fails_port_add_and_port_del")]),

    ("publish-ignored-del", "port.del closes a port whose removal was never published",
     [("src/ctl/cmd_port.c",
       "\txvsd.port[p->slot] = NULL;\n\tr = xvsd_publish_err(err);\n",
       "\txvsd.port[p->slot] = NULL;\n\tr = xvsd_publish_err(err) * 0;\n")],
     [e2e("test_faults.py", "publish_failure_fails_port_add_and_port_del")]),

    ("del-undo-store-kept", "a port.del whose publish failed leaves the port deleted in the store",
     [("src/ctl/cmd_port.c",
       "\t\txvsd_store_restore(store_put_port_back, &u, err);\n", "")],
     [e2e("test_faults.py", "publish_failure_fails_port_add_and_port_del")]),

    ("fdb-add-before-commit", "fdb.add changes the FDB before the store commit",
     [("src/ctl/cmd_fdb.c",
       "\tif ((r = xvsd_store_commit(err)) < 0)\n\t\treturn r;\n\t/* A failed add",
       "\txvs_fdb_add_static(xvs_dp.fdb, s.mac, (uint16_t)s.vid, p->slot, err);\n"
       "\tif ((r = xvsd_store_commit(err)) < 0)\n\t\treturn r;\n\t/* A failed add")],
     [e2e("test_faults.py", "fdb_add_failures_keep_the_prior_entry")]),

    ("fdb-undo-deletes", "an fdb.add that fails to apply deletes the stored entry instead of "
     "restoring the prior one",
     [("src/ctl/cmd_fdb.c",
       "\t\tu.port = xvsd.port[prior.port]->cfg.name;\n", "\t\t;\n")],
     [e2e("test_faults.py", "fdb_add_failures_keep_the_prior_entry")]),

    ("no-instance-lock", "a second xvsd on the same database or socket is not refused",
     [("src/ctl/main.c",
       "if (flock(fd, LOCK_EX | LOCK_NB) < 0) {",
       "if (flock(fd, LOCK_EX | LOCK_NB) < 0 && false) {")],
     [e2e("test_instances.py", "second_instance_on_same_database")]),

    ("socket-taken-over", "xvsd takes over a control socket another process serves",
     [("src/ctl/main.c",
       "alive = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN;",
       "alive = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && false;")],
     [e2e("test_instances.py", "live_socket_of_another_server_is_not_taken_over")]),

    ("switch-set-undo-store-kept", "a switch.set whose publish failed leaves its settings stored",
     [("src/ctl/cmd_switch.c",
       "\t\t\txvsd_store_restore(store_put_settings, &u, err);\n", "")],
     [e2e("test_faults.py", "switch_set_publish_failure")]),

    # -- core policies: RSS conservative profile, worker idle
    ("rss-hold-ignored", "the conservative profile grows again during its 30 s hold",
     [("src/core/rss.c",
       "if (next > k && (now_ns < st->hold_until_ns || rx_pps <= 0))",
       "if (next > k && rx_pps <= 0)")],
     [unit("test_rss")]),

    ("idle-sleep-uncapped", "a worker's timed sleeps keep doubling past their maximum",
     [("src/core/idle.h",
       "s->sleep_ns >= p->sleep_max_ns / 2 ? p->sleep_max_ns : 2 * s->sleep_ns",
       "2 * s->sleep_ns")],
     [unit("test_idle")]),

    # -- egress conservation counters, vhost restart
    ("gso-segments-miscounted", "tx_gso_segments counts every segment, not those beyond "
     "the first",
     [("src/dp/worker.c",
       "w->ctr[out].tx_gso_segments += segs - 1u;", "w->ctr[out].tx_gso_segments += segs;")],
     [e2e("test_offload.py", "v4-536")]),

    ("vhost-stale-socket-kept", "a vhost-user socket that kill -9 left behind is not removed",
     [("src/dp/ports/vhost.c",
       "\t\t(void)unlink(path); /* if that fails, lib vhost's bind says so */\n",
       "\t\t(void)path;\n")],
     [e2e("test_vhost.py", "xvsd_kill9_with_guest_attached"),
      e2e("test_guest.py")]),

    # -- vhost-user on lib vhost: offloads, multiqueue
    ("vhost-tx-one-queue", "frames to a multiqueue guest all go to its first rx queue",
     [("src/dp/ports/vhost.c",
       "return (uint16_t)(xvs_rss_reta_index(h, VHOST_TX_RETA) % n);",
       "return (uint16_t)(0 * h * n);")],
     [e2e("test_vhost.py", "multiqueue_spreads_by_toeplitz")]),

    ("vhost-meta-to-any-guest", "offload requests go to a guest that did not negotiate them",
     [("src/dp/ports/vhost.c",
       "\treturn atomic_load_explicit(&v->guest_ol, memory_order_relaxed);\n",
       "\treturn v != NULL;\n")],
     [e2e("test_vhost.py", "tso_frames_cross_a_guest and off")]),

    ("vhost-guest-tso-ignored", "a guest's TSO request (LRO flag) is taken as a plain frame",
     [("src/dp/ports/vhost.c",
       "\t\t\tif (fl & RTE_MBUF_F_RX_LRO) {\n",
       "\t\t\tif (fl & 0) {\n")],
     [e2e("test_vhost.py", "tso_frames_cross_a_guest and afpacket")]),

    ("vhost-qos-meta-stale", "frames for a QoS vhost port keep offload requests that the "
     "guest at send time may not take",
     [("src/dp/worker.c",
       "(p->qos == NULL && p->ops->tx_meta_now(p->priv))",
       "(p->ops->tx_meta_now(p->priv))")],
     [e2e("test_vhost.py", "tso_frames_cross_a_guest and qos")]),

    ("vhost-guest-tso-cut", "TSO frames to a guest that negotiated TSO are cut in software",
     [("src/dp/ports/vhost.c",
       "\treturn atomic_load_explicit(&v->guest_ol, memory_order_relaxed);\n",
       "\treturn v == NULL;\n")],
     [e2e("test_guest.py")]),

    ("vhost-kicks-left-on", "a worker woken by a new snapshot with a vhost queue armed "
     "leaves the guest kicking at every burst while it stays busy",
     [("src/dp/ports/vhost.c",
       "\t    (got > 0 ||\n",
       "\t    (got < 0 ||\n")],
     [e2e("test_vhost.py", "busy_worker_takes_no_guest_kicks")]),

    ("vhost-unpolled-pairs-hidden", "a guest's queue pairs beyond queues= are not shown "
     "as unpolled",
     [("src/dp/ports/vhost.c",
       "qps > v->n_rxq ? (uint16_t)(qps - v->n_rxq) : 0,",
       "0,")],
     [e2e("test_vhost.py", "beyond_queues_are_shown")]),

    # -- rx queues as objects: counters, busy cycles, placement view
    ("queue-busy-on-empty-polls", "an empty poll counts as busy time of its queue",
     [("src/dp/worker.c",
       "\t\t\t\t\tqc->empty_polls++;\n",
       "\t\t\t\t\tqc->empty_polls++;\n\t\t\t\t\tqc->busy_tsc += rte_rdtsc() - tq;\n")],
     [e2e("test_queue.py", "counts_on_its_queue_only")]),

    ("queue-counts-on-slot-0", "every queue's packets are counted on the first port's queue",
     [("src/dp/worker.c",
       "struct xvs_rxq_counters *qc = &w->rxq_ctr[q->port][q->queue];",
       "struct xvs_rxq_counters *qc = &w->rxq_ctr[0][q->queue];")],
     [e2e("test_queue.py", "counts_on_its_queue_only")]),

    ("queue-view-unplaced", "queue.show says every queue of a port is polled",
     [("src/ctl/switch.c",
       "p->rxq[q].polled = q < used && q < nq;", "p->rxq[q].polled = q < nq;")],
     [e2e("test_queue.py", "placement_view_follows_rss")]),

    # -- extension ABI core
    ("ext-cycle-accepted", "an extension order with a cycle is accepted, cut short",
     [("src/core/ext_order.c",
       "\t\tif (best < 0)\n\t\t\treturn report_cycle(g, done, err);\n",
       "\t\tif (best < 0)\n\t\t\treturn 0;\n")],
     [unit("test_ext_order")]),

    ("dhcp4-guard-needs-both-ports", "the DHCP guard takes only 67 -> 68 for a server frame "
     "(relays and odd client ports pass)",
     [("src/core/guard.c",
       "return sport == DHCP4_SERVER_PORT || dport == DHCP4_CLIENT_PORT",
       "return sport == DHCP4_SERVER_PORT && dport == DHCP4_CLIENT_PORT")],
     [unit("test_guard")]),

    ("acl-tie-takes-later", "of two matching ACL rules of equal weight the later one wins",
     [("src/core/acl.c",
       "if (best < 0 || rules[i].weight > rules[best].weight)",
       "if (best < 0 || rules[i].weight >= rules[best].weight)")],
     [unit("test_acl")]),

    # -- the ACL stage on rte_acl (src/dp/stages/acl.c) and its control
    ("acl-stage-local-remote-swapped", "the ACL stage reads an IPv4 source as the remote "
     "side of traffic the VM sends",
     [("src/dp/stages/acl.c",
       "\t\tmemcpy(out ? k->local : k->remote, src, 4);",
       "\t\tmemcpy(out ? k->remote : k->local, src, 4);")],
     [unit("test_acl_dpdk"), e2e("test_acl.py", "deny_remote_prefix")]),

    ("acl-stage-ties-unordered", "the ACL stage gives equal-weight rules the same priority",
     [("src/dp/stages/acl.c",
       "a->data.priority = (int32_t)xvs_acl_priority(r->weight, idx);",
       "a->data.priority = (int32_t)xvs_acl_priority(r->weight, 0);")],
     [unit("test_acl_dpdk")]),

    ("acl-stage-no-flow-lookup", "a recorded stateful flow does not let its replies in",
     [("src/dp/stages/acl.c",
       "\t\t\tif (flow_hit(st, &f, b->now_ns)) {",
       "\t\t\tif (flow_hit(st, &f, b->now_ns) && false) {")],
     [unit("test_acl_dpdk"), e2e("test_acl.py", "stateful")]),

    ("acl-stage-meter-passes-all", "a meter rule passes everything above its rate",
     [("src/dp/stages/acl.c",
       "\t\t\t    RTE_COLOR_GREEN) {",
       "\t\t\t    RTE_COLOR_GREEN || true) {")],
     [unit("test_acl_dpdk"), e2e("test_acl.py", "meter")]),

    ("acl-stage-pps-meters-bytes", "a meter in packets/s counts bytes instead of packets",
     [("src/dp/stages/acl.c",
       "\t\t\t\t\t\t\t      ri->per_packet ? 1 :\n",
       "\t\t\t\t\t\t\t      ri->per_packet && false ? 1 :\n")],
     [unit("test_acl_dpdk"), e2e("test_acl.py", "packets_per_second")]),

    ("mac-spoof-fast-compare-short", "mac_spoof's fast path compares 4 of the 6 bytes",
     [("src/dp/stages/mac_spoof.c",
       "\treturn ((a0 ^ b0) | (uint32_t)(a1 ^ b1)) == 0;",
       "\treturn (a0 ^ b0) == 0;")],
     [e2e("test_guard.py", "spoofed_source")]),

    ("acl-cache-no-direction", "the ACL verdict cache answers a packet with the verdict "
     "of the same key in the other direction",
     [("src/dp/stages/acl.c",
       "\tk->pad[0] = out ? 2 : 1;",
       "\tk->pad[0] = 1;")],
     [unit("test_acl_dpdk")]),

    ("acl-cache-hit-skips-rule", "a verdict-cache hit is answered as no match",
     [("src/dp/stages/acl.c",
       "\t\t\tres[i] = slot[j]->res;",
       "\t\t\tres[i] = 0;")],
     [unit("test_acl_dpdk")]),

    # -- the policy flow cache (src/dp/flow_cache.c) and the stateful write order
    ("fcache-ignores-generation", "a flow cache entry outlives the rules it was made under",
     [("src/dp/flow_cache.c",
       "\tif (likely(gen == fc->gen))",
       "\tif (likely(gen == fc->gen) || fc->gen != UINT64_MAX)")],
     [unit("test_acl_dpdk"), e2e("test_acl.py", "flow_cache")]),

    ("fcache-mask-no-local-port", "the flow cache's key leaves out the source port that a "
     "rule's local-port range reads, so flows the rule tells apart share one answer",
     [("src/dp/stages/acl.c",
       "r->remote_ip.family == 4 ? r->remote_ip.len : 0, lp, rp);",
       "r->remote_ip.family == 4 ? r->remote_ip.len : 0, false, rp);")],
     [unit("test_acl_dpdk")]),

    ("fcache-mask-dst-as-src", "the flow cache's mask keeps a rule's destination prefix in "
     "the source address's bits",
     [("src/dp/flow_cache.c",
       "(uint64_t)prefix_bytes(dst_bits) << 32;",
       "(uint64_t)prefix_bytes(dst_bits);")],
     [unit("test_acl_dpdk")]),

    ("fcache-mask-unused", "the flow cache's keys keep every bit of both ports: flows that "
     "no rule tells apart by port each take an entry",
     [("src/dp/flow_cache.h",
       "\tk[3] &= mask->c[c].ports;",
       "\tk[3] &= mask->c[c].ports | UINT64_MAX;")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-mask-top-range-free", "a port range up to 65535 is taken for the whole range, "
     "so the flow cache's key leaves out a port the rule reads",
     [("src/dp/stages/acl.c",
       "\tbool lp = r->has_local_port && (r->local_port_lo != 0 || r->local_port_hi != 0xffff);",
       "\tbool lp = r->has_local_port && r->local_port_hi != 0xffff;")],
     [unit("test_acl_dpdk")]),

    ("fcache-mask-addresses-unused", "the flow cache's keys keep every bit of both addresses: "
     "flows that no rule tells apart by address each take an entry",
     [("src/dp/flow_cache.h",
       "\tk[2] &= mask->c[c].addrs;",
       "\tk[2] &= mask->c[c].addrs | UINT64_MAX;")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-two-choices", "a flow whose set is full has two choices of set, not four",
     [("src/dp/flow_cache.c",
       "#define CHOICES 4u",
       "#define CHOICES 2u")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-runs-no-key-eq", "frames of one flow that the L2 stage's same[] did not join "
     "(another TOS or length) each miss, are classified and take an entry of their own",
     [("src/dp/flow_cache.c",
       "\t\tif (i > 0 && key_eq(keys[i], keys[start[nu - 1]]))",
       "\t\tif (same == NULL && i > 0 && key_eq(keys[i], keys[start[nu - 1]]))")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-held-runs-no-key-eq", "held frames of one flow that the L2 stage's same[] did "
     "not join each miss, are classified and take an entry of their own",
     [("src/dp/flow_cache.c",
       "\t\tif (i > 0 && hash[i] == hash[last] && key_eq(key[i], key[last]))",
       "\t\tif (false && i > 0 && hash[i] == hash[last] && key_eq(key[i], key[last]))")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-held-same-shifted", "the flow cache joins a held frame to the run before it when "
     "the frame before it was marked, not itself",
     [("src/dp/flow_cache.c",
       "\t\tif (i > 0 && same[i])\n\t\t\tcontinue;\n\t\tif (unlikely(!ok[i]))",
       "\t\tif (i > 1 && same[i - 1])\n\t\t\tcontinue;\n\t\tif (unlikely(!ok[i]))")],
     [[str(BUILD / "test_pipeline_dp")], unit("test_acl_dpdk")]),

    ("fcache-insert-copies", "a key already in the flow cache is written again into another "
     "way when a burst held its flow in two runs",
     [("src/dp/flow_cache.c",
       "\t\t\tif (ent_eq(&o[w], k, ep))\n\t\t\t\treturn;\n",
       "")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-no-fourth-choice", "an entry written to a key's fourth choice of set is never "
     "looked up there",
     [("src/dp/flow_cache.c",
       "\tfor (unsigned c = 1; c < CHOICES && nm > 0; c++) {",
       "\tfor (unsigned c = 1; c + 1 < CHOICES && nm > 0; c++) {")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-run-no-rule", "the frames after the first of a run in a burst get no ACL rule",
     [("src/dp/flow_cache.c",
       "\t\t\tpres[i] = res[j];",
       "\t\t\tpres[i] = start[j] == i ? res[j] : 0;")],
     [unit("test_acl_dpdk")]),

    ("fcache-run-counted-once", "a run of one flow is counted as one packet on its ACL rule",
     [("src/dp/stages/acl.c",
       "\t\tw->hits[r - 1] += e - i;",
       "\t\tw->hits[r - 1] += 1;")],
     [unit("test_acl_dpdk")]),

    ("fcache-same-shifted", "the flow cache joins a frame to the run before it when the "
     "frame before it was marked, not itself",
     [("src/dp/flow_cache.c",
       "\t\tif (same != NULL && i > 0 && same[i])\n\t\t\tcontinue; /* frame i - 1's key",
       "\t\tif (same != NULL && i > 1 && same[i - 1])\n\t\t\tcontinue; /* frame i - 1's key")],
     [unit("test_acl_dpdk")]),

    ("run-dst-flags-lost", "a frame of a run loses the known-destination flag the frame "
     "before it got (storm_limit counts it as unknown unicast)",
     [("src/dp/stage_l2.c",
       "\t\t\tmd->flags = flags;\n\t\t\tcontinue;",
       "\t\t\tmd->flags = flags & ~XVS_META_DST_KNOWN;\n\t\t\tcontinue;")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("run-across-prio-tag", "a priority-tagged frame takes the metadata (PCP 0) of the "
     "untagged frame before it",
     [("src/dp/stage_l2.c",
       "\t\t\trun[k] = c->same && !(prio | prio_prev) &&",
       "\t\t\trun[k] = c->same &&")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("run-ignores-ports", "the L2 stage takes a frame into the run before it although its "
     "L4 ports differ (the flow cache reuses the run's verdict)",
     [("src/dp/stage_l2.c",
       "\treturn (x[0] | x[1] | (a8 ^ b8) | (a4 ^ b4)) == 0;",
       "\treturn (x[0] | x[1] | (a8 ^ b8)) == 0;")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("run-ignores-proto", "the L2 stage takes a frame into the run before it although its "
     "IP protocol differs",
     [("src/dp/stage_l2.c",
       "\t\t\t\t 0, 0, 0xff, 0xff, 0, 0xff, 0, 0};",
       "\t\t\t\t 0, 0, 0xff, 0xff, 0, 0, 0, 0};")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("run-ignores-length", "the L2 stage takes a frame into the run before it although its "
     "IP length differs (its metadata could differ: a TCP header cut short)",
     [("src/dp/stage_l2.c",
       "\tstatic const v16 mask = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,",
       "\tstatic const v16 mask = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0,")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-key-without-macs", "the policy flow cache leaves the MACs out of its key "
     "also when an answer depends on them (mac_spoof, a MAC rule)",
     [("src/dp/flow_cache.h",
       "\t\tmemcpy(&a8, d, 8);     /* dst MAC, src MAC 0-1 */\n",
       "")],
     [unit("test_acl_dpdk")]),

    ("fcache-key-of-without-macs", "the L2 stage leaves the MACs out of the flow cache keys "
     "it makes from the headers also when an answer depends on them",
     [("src/dp/flow_cache.h",
       "\t\tmemcpy(&a8, d, 8);\n\t\tmemcpy(&a4, d + 8, 4);\n\t}\n\tk[0] = a8;",
       "\t}\n\tk[0] = a8;")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-key-of-dhcp", "the key the L2 stage makes from the headers takes a DHCP "
     "message (UDP to or from its ports) as one the flow cache answers",
     [("src/dp/flow_cache.h",
       "\tif (proto == 17 && unlikely(ports == 0 || xvs_udp_dhcp_ports(ip + 20)))",
       "\tif (proto == 17 && unlikely(ports == 0))")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-key-of-fragment", "the key the L2 stage makes from the headers takes an IPv4 "
     "fragment as one the flow cache answers",
     [("src/dp/flow_cache.h",
       "\tif (unlikely((xvs_rd16(ip + 6) & 0x3fff) != 0 || tot < 20",
       "\tif (unlikely((xvs_rd16(ip + 6) & 0x1fff) != 0 || tot < 20")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("acl-macs-unseen", "the flow cache is told an ACL matches no MAC when a rule does",
     [("src/dp/stages/acl.c",
       "\treturn st != NULL && st->macs;\n",
       "\treturn false;\n")],
     [unit("test_acl_dpdk")]),

    ("acl-runs-merge-answers", "the ACL counts runs of different answers together",
     [("src/dp/stages/acl.c",
       "\t\twhile (j + 1 < n_runs && res[j + 1] == r)",
       "\t\twhile (j + 1 < n_runs)")],
     [unit("test_acl_dpdk")]),

    ("meta-held-in-mbuf", "the L2 stage writes the metadata into the mbufs although the "
     "flow cache answers for the stages and nothing after reads it",
     [("src/dp/stage_l2.c",
       "\t\t\t\t\t\t\t\t   in_port, plan.macs, plan.mask);\n",
       "\t\t\t\t\t\t\t\t   in_port, plan.macs, plan.mask);\n"
       "\t\t\t\t\txvs_meta_fill_at(xvs_meta(m), m, &c->l2, in_port, c->vid);\n")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-plan-ignores-mac-rules", "the flow cache leaves the MACs out of its key for "
     "an ACL with a MAC rule (no mac_spoof on the port)",
     [("src/dp/pipeline_run.c",
       "\tp->macs = p->spoof >= 0 || (p->acl >= 0 && xvs_acl_stage_reads_macs(st[p->acl].state));",
       "\tp->macs = p->spoof >= 0;")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("acl-macs-remote-only", "an ACL whose only MAC rule matches the local MAC says it "
     "reads no MAC",
     [("src/dp/stages/acl.c",
       "\t\tst->macs |= rules[i].has_local_mac || rules[i].has_remote_mac;",
       "\t\tst->macs |= rules[i].has_remote_mac;")],
     [unit("test_acl_dpdk")]),

    ("held-meta-wrong-index", "the L2 stage keeps a frame's flow cache key and hash at its "
     "index in the burst as received, not among the frames kept (a runt dropped before it)",
     [("src/dp/stage_l2.c",
       "\t\t\t\t\tfok[k] = xvs_fcache_key_of(fkey[k],",
       "\t\t\t\t\tfok[k] = xvs_fcache_key_of(fkey[i],"),
      ("src/dp/stage_l2.c", "\t\t\t\t\t\tfhash[k] = xvs_fcache_hash(fkey[k], plan.macs);",
       "\t\t\t\t\t\tfhash[i] = xvs_fcache_hash(fkey[i], plan.macs);")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("held-storm-any-dst", "with storm_limit on, the flow cache answers for held frames to "
     "an unknown destination too (storm_limit never counts them)",
     [("src/dp/stage_l2.c",
       "\t\t\t\tfok[i] &= cls[i].dst_looked && cls[i].dst_found;",
       "\t\t\t\tfok[i] &= cls[i].dst_looked;")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("lazy-meta-bypass-unwritten", "the stages run on a burst the flow cache could not "
     "answer without the metadata the L2 stage held out of the mbufs (lazy)",
     [("src/dp/pipeline_run.c",
       "\t\theld->write(held->ctx, NULL, n);\n\t\tmeta_unhold(",
       "\t\tmeta_unhold(")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("held-arrays-unbuilt", "the burst's data and metadata arrays of a held burst are not "
     "built when the flow cache has its metadata written (a miss)",
     [("src/dp/pipeline_run.c",
       "\tif (!h->built) {\n\t\tarrays_of(h->a, h->pkts, h->n, h->held->meta);",
       "\tif (false) {\n\t\tarrays_of(h->a, h->pkts, h->n, h->held->meta);")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("lazy-meta-misses-unwritten", "the ACL classifies the flow cache's misses from the "
     "metadata the L2 stage held back without having it written",
     [("src/dp/flow_cache.c",
       "\t\tif (held != NULL)\n\t\t\theld->write(held->ctx, miss, nm);\n",
       "")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("lazy-meta-stateful-unwritten", "the ACL's per-packet path behind the flow cache "
     "(stateful rules) reads a run's frames' metadata the L2 stage left unwritten",
     [("src/dp/flow_cache.c",
       "\t\txvs_fcache_meta_runs(b->meta, b->pkts, same, b->n);\n\t}\n",
       "\t}\n")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("lazy-meta-stateful-held", "the ACL's per-packet path behind the flow cache reads the "
     "metadata the L2 stage held back without having it written",
     [("src/dp/flow_cache.c",
       "\t\theld->write(held->ctx, NULL, b->n);\n\t\txvs_fcache_meta_runs(",
       "\t\txvs_fcache_meta_runs(")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("lazy-meta-with-egress", "the L2 stage leaves a run's frames without metadata also "
     "when egress stages (or QoS) read it",
     [("src/dp/stage_l2.c",
       "\tbool lazy = !meta_out && unlikely(",
       "\tbool lazy = unlikely(")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("qos-direct-while-paused", "the owner's burst goes out directly while a pause frame "
     "holds the port",
     [("src/dp/qos_egress.c",
       "\treturn xvs_tsc_ns(rte_rdtsc()) < q->pause_end;\n",
       "\treturn false;\n")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-direct-never-after-pause", "a port paused once never takes the direct path again",
     [("src/dp/qos_egress.c",
       "\treturn xvs_tsc_ns(rte_rdtsc()) < q->pause_end;\n",
       "\treturn true;\n")],
     [[str(BUILD / "test_qos_dp")]]),

    ("meta-for-own-egress", "frames get their metadata for egress stages that only "
     "their own input port has",
     [("src/dp/dp.h",
       "\treturn s->n_egress_ports > 1 || (s->n_egress_ports == 1 && s->egress_port != in_port);\n",
       "\treturn s->n_egress_ports > 0;\n")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("meta-not-for-other-egress", "frames get no metadata for the egress stages of the "
     "port they go to",
     [("src/dp/dp.h",
       "\treturn s->n_egress_ports > 1 || (s->n_egress_ports == 1 && s->egress_port != in_port);\n",
       "\treturn s->n_egress_ports > 1;\n")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("lazy-meta-with-qos", "the L2 stage leaves a run's frames without metadata when "
     "QoS classifies from it at the flush",
     [("src/dp/stage_l2.c",
       "\tbool meta_out = egress_meta || s->qos_ports;\n",
       "\tbool meta_out = egress_meta;\n")],
     [[str(BUILD / "test_qos_dp")]]),

    ("fcache-guards-skip-flags", "the flow cache standing for the guards alone (no "
     "mac_spoof, no ACL) passes frames the guards would look at",
     [("src/dp/flow_cache.c",
       "\t\t\tif (held != NULL ? !held->ok[i] :",
       "\t\t\tif (held != NULL ? false :")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-no-second-choice", "a flow whose set was full is written to another choice of "
     "set but never looked up there (it misses on every packet)",
     [("src/dp/flow_cache.c",
       "\t\t\tif (set_find(choice_of(set[i], c), kk[miss[i]], ep, &ans[mrun[i]]))",
       "\t\t\tif (false && set_find(choice_of(set[i], c), kk[miss[i]], ep, &ans[mrun[i]]))")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-second-choice-wrong-run", "an answer found in a later choice of set goes to "
     "another run of the burst",
     [("src/dp/flow_cache.c",
       "\t\t\tif (set_find(choice_of(set[i], c), kk[miss[i]], ep, &ans[mrun[i]]))",
       "\t\t\tif (set_find(choice_of(set[i], c), kk[miss[i]], ep, &ans[i]))")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("fcache-forgets-spoof", "a flow cache entry passes a source mac_spoof drops",
     [("src/dp/flow_cache.c",
       "uint32_t a = mres[j] | (spoof[j] ? ANS_SPOOF : 0);",
       "uint32_t a = mres[j];")],
     [unit("test_acl_dpdk")]),

    ("fcache-drop-wrong-stage", "a frame the flow cache finds spoofed is counted as the "
     "ACL's drop",
     [("src/dp/flow_cache.c",
       "\t\t\tby[i] = (uint8_t)plan->spoof;",
       "\t\t\tby[i] = (uint8_t)plan->acl;")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("acl-flow-live-before-timeout", "a stateful flow becomes live before its timeout is written",
     [("src/dp/stages/acl.c",
       "\tatomic_store_explicit(&w->ent[pos].timeout_ns, ri->timeout_ns, memory_order_relaxed);\n"
       "\tif (unlikely(xvs_acl_test_flow_seam != NULL))\n"
       "\t\txvs_acl_test_flow_seam(); /* the publication point, for the unit test */\n"
       "\tatomic_store_explicit(&w->ent[pos].last_ns, now_ns, memory_order_release);",
       "\tatomic_store_explicit(&w->ent[pos].last_ns, now_ns, memory_order_release);\n"
       "\tif (unlikely(xvs_acl_test_flow_seam != NULL))\n"
       "\t\txvs_acl_test_flow_seam(); /* the publication point, for the unit test */\n"
       "\tatomic_store_explicit(&w->ent[pos].timeout_ns, ri->timeout_ns, memory_order_relaxed);")],
     [unit("test_acl_dpdk")]),

    ("acl-not-restored", "stored ACL rules are not compiled at start-up",
     [("src/ctl/cmd_acl.c",
       "\t\tif (r == 0 && list.n == 0)\n\t\t\tcontinue;",
       "\t\tif (r == 0)\n\t\t\tcontinue;")],
     [e2e("test_acl.py", "survive_restart")]),

    ("qos-classifier-range-edge", "the compiled QoS classifier leaves a port range's last "
     "port out",
     [("src/core/qos.c",
       "\treturn v < 65536 && v >= m->port_lo && v <= m->port_hi;",
       "\treturn v < 65536 && v >= m->port_lo && v < m->port_hi;")],
     [unit("test_qos")]),

    ("qos-classifier-last-rule", "the compiled QoS classifier takes the last matching rule, "
     "not the first",
     [("src/core/qos.h",
       "\treturn c->cls[__builtin_ctz(m | 1u << XVS_QOS_RULE_BITS)];",
       "\treturn c->cls[m == 0 ? XVS_QOS_RULE_BITS : 31 - __builtin_clz(m)];")],
     [unit("test_qos"), [str(BUILD / "test_qos_dp")]]),

    ("qos-classifier-port-block", "the compiled QoS classifier ignores a port's low byte "
     "where a range starts or ends inside its high byte's 256",
     [("src/core/qos.h",
       "\treturn e.mask & c->block[e.block][port & 0xff];",
       "\treturn e.mask;")],
     [unit("test_qos")]),

    ("qos-classifier-uses-one-port", "the compiled QoS classifier looks at the destination "
     "port's table for a rule on the source port",
     [("src/core/qos.c",
       "\t\t\tc->uses |= m->port_is_src ? XVS_QOS_USES_SPORT : XVS_QOS_USES_DPORT;",
       "\t\t\tc->uses |= XVS_QOS_USES_DPORT;")],
     [unit("test_qos")]),

    ("qos-classifier-range-from-zero", "the compiled QoS classifier skips the port table "
     "of a rule whose range starts at port 0 (dport 0-1023)",
     [("src/core/qos.c",
       "\t\tif (m->port_lo != 0 || m->port_hi != 0)\n\t\t\tc->uses |=",
       "\t\tif (m->port_lo != 0)\n\t\t\tc->uses |=")],
     [unit("test_qos")]),

    ("qos-classifier-blocks-32", "the compiled QoS classifier holds one port block too few "
     "(16 rules each starting and ending inside a 256-port block are refused)",
     [("src/core/qos.h",
       "#define XVS_QOS_PORT_BLOCKS (2 * XVS_QOS_RULE_BITS + 1)",
       "#define XVS_QOS_PORT_BLOCKS (2 * XVS_QOS_RULE_BITS)")],
     [unit("test_qos")]),

    ("qos-l34-without-dscp", "QoS reads the header beyond the metadata word only for "
     "port rules, so a rule set on DSCP without one on ports sees every frame as DSCP 0",
     [("src/core/qos.h",
       "#define XVS_QOS_USES_L34 (XVS_QOS_USES_DSCP | XVS_QOS_USES_SPORT | XVS_QOS_USES_DPORT)",
       "#define XVS_QOS_USES_L34 (XVS_QOS_USES_SPORT | XVS_QOS_USES_DPORT)")],
     [[str(BUILD / "test_qos_dp")]]),

    ("ipv4-header-total-below-ihl", "an IPv4 header whose total length is shorter than the "
     "header itself is taken as IP (by the parser, the metadata and QoS alike)",
     [("src/core/pkt_parse.h",
       "\treturn *ihl >= 20 && *tot >= *ihl && *tot <= len - off;",
       "\treturn *ihl >= 20 && *tot <= len - off;")],
     [unit("test_pkt_parse")]),

    ("qos-sctp-ports-accepted", "a QoS rule on SCTP ports, which the datapath never reads, "
     "is accepted and matches nothing",
     [("src/core/pkt_parse.h",
       "\treturn proto == 6 || proto == 17;",
       "\treturn proto == 6 || proto == 17 || proto == 132;")],
     [unit("test_qos")]),

    ("qos-l2-first-fragment-ports", "the L2 stage classifies a first IPv4 fragment by its "
     "ports, which the metadata does not give it",
     [("src/dp/qos_egress.h",
       "\t\t\tif ((xvs_rd16(ip + 6) & 0x3fff) == 0 && xvs_l4_has_ports(k.proto, tot - ihl)) {",
       "\t\t\tif ((xvs_rd16(ip + 6) & 0x1fff) == 0 && xvs_l4_has_ports(k.proto, tot - ihl)) {")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-all-big-frames", "a burst with a frame of FRAME_MAX or more is taken whole, "
     "charged unclipped",
     [("src/core/qos.c",
       "\tif (big != 0 || extra >= FRAME_MAX)",
       "\tif (extra >= FRAME_MAX)")],
     [unit("test_qos")]),

    ("qos-all-tag-wrap", "a burst taken whole whose class's tag moves 2^62 or more "
     "(absolute mode, a class without a minimum) is compared after the tags wrapped",
     [("src/core/qos.c",
       "\t\tif (c->inv_w != 0 && chg[i] >= TAG_AHEAD_MAX / c->inv_w)",
       "\t\tif (c->inv_w != 0 && chg[i] >= UINT64_MAX)")],
     [unit("test_qos")]),

    ("qos-whole-no-wire-len", "a burst the owner sends whole is charged without the 24 "
     "bytes of wire overhead a physical link's frames carry",
     [("src/dp/qos_egress.c",
       "\tif (!xvs_qos_pick_all(&q->sched, tc, lens, n, pl->wire_len ? 24 : 0, now_ns, &sent))",
       "\tif (!xvs_qos_pick_all(&q->sched, tc, lens, n, 0, now_ns, &sent))")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-whole-pcp-first-class", "a burst of several classes sent whole is marked with "
     "the 802.1p priority of its first frame's class",
     [("src/dp/qos_egress.c",
       "\t\t\tif (pl->pcp[tc[i]] >= 0)\n\t\t\t\tmark_pcp(pkts[i], (uint8_t)pl->pcp[tc[i]]);",
       "\t\t\tif (pl->pcp[tc[0]] >= 0)\n\t\t\t\tmark_pcp(pkts[i], (uint8_t)pl->pcp[tc[0]]);")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-all-last-active", "a burst taken whole leaves every class inactive, also the one "
     "whose frame the picks would have sent last (it rejoins at the virtual time, ahead)",
     [("src/core/qos.c",
       "\t\tc->active = i == last;",
       "\t\tc->active = false;")],
     [unit("test_qos")]),

    ("qos-all-tie-last", "a burst taken whole takes the lowest class of equal last tags as "
     "the last pick, not the highest",
     [("src/core/qos.c",
       "\t\tif ((int64_t)(fin[i] - fin[last]) >= 0)",
       "\t\tif ((int64_t)(fin[i] - fin[last]) > 0)")],
     [unit("test_qos")]),

    ("qos-all-no-charge", "a burst taken whole is sent without the scheduler's virtual time "
     "moving",
     [("src/core/qos.c",
       "\ts->vtime = fin[last];\n",
       "\n")],
     [unit("test_qos"), [str(BUILD / "test_qos_dp")]]),

    ("qos-idle-banks-credit", "a QoS class back from idle keeps its old virtual tag "
     "(it bursts on waking instead of rejoining at the system's virtual time)",
     [("src/core/qos.c",
       "\tif (d == 0 || d > TAG_AHEAD_MAX)\n\t\tc->finish = s->vtime;\n",
       "\tif (d == 0)\n\t\tc->finish = s->vtime;\n")],
     [unit("test_qos")]),

    ("qos-cap-not-charged", "a capped QoS class is not charged for what it sends "
     "(the cap stops holding after the first bucket)",
     [("src/core/qos.c",
       "\tif (c->cap.rate_bps != 0)\n\t\tc->cap.tokens -= tb_cost(len);\n",
       "\tif (c->cap.rate_bps == 0)\n\t\tc->cap.tokens -= tb_cost(len);\n")],
     [unit("test_qos")]),

    ("qos-weight-inverted", "the QoS scheduler picks the largest virtual finish tag "
     "(shares go against the weights)",
     [("src/core/qos.c",
       "if (best < 0 || (int64_t)(tag - best_tag) < 0) {",
       "if (best < 0 || (int64_t)(tag - best_tag) > 0) {")],
     [unit("test_qos")]),

    ("qos-strict-last", "ETS strict-priority classes are served only when no weighted "
     "class has a frame (last instead of first)",
     [("src/core/qos.c",
       "\tif (best_strict >= 0)\n\t\tbest = best_strict;\n",
       "\tif (best_strict >= 0 && best < 0)\n\t\tbest = best_strict;\n")],
     [unit("test_qos")]),

    ("qos-abs-sum-unchecked", "absolute minimums summing above the link are accepted",
     [("src/core/qos.c",
       "if (sum_abs < c->min_bps || sum_abs > cfg->capacity_bps)",
       "if (sum_abs < c->min_bps)")],
     [unit("test_qos")]),

    ("qos-burst-weight-inverted", "the burst scheduler (the datapath's) picks the largest "
     "virtual finish tag",
     [("src/core/qos.c", "\t\t\t\tif ((int64_t)(tag[i] - tag[best]) < 0)\n",
       "\t\t\t\tif ((int64_t)(tag[i] - tag[best]) > 0)\n")],
     [unit("test_qos")]),

    ("qos-burst-no-reeval", "the burst scheduler does not look at a class again after it "
     "sent: its next frame keeps the old tag and its cap is not checked",
     [("src/core/qos.c", "\t\t\t\tif (!burst_eval(s, (uint32_t)last,",
       "\t\t\t\tif (false && !burst_eval(s, (uint32_t)last,")],
     [unit("test_qos")]),

    ("qos-burst-sum-port-free", "the one-class path's summed charge (a burst the port's "
     "bucket holds) leaves the port's bucket full",
     [("src/core/qos.c", "\t\ts->port.tokens -= cost;\n", "\t\t(void)cost;\n")],
     [unit("test_qos")]),

    ("qos-burst-one-class-port-free", "the burst scheduler's one-class path does not charge "
     "the port's bucket (a paced port sends above its rate)",
     [("src/core/qos.c",
       "\t\t\t\tif (s->port.rate_bps != 0)\n\t\t\t\t\ts->port.tokens -= tb_cost(clen);\n",
       "\t\t\t\tif (s->port.rate_bps == 0)\n\t\t\t\t\ts->port.tokens -= tb_cost(clen);\n")],
     [unit("test_qos")]),

    ("qos-burst-batch-port-free", "the burst scheduler's one-class batch sends a burst the "
     "port's bucket does not hold (a paced port sends above its rate)",
     [("src/core/qos.c", "\tif (s->port.rate_bps != 0 && s->port.tokens < cost)\n",
       "\tif (false && s->port.tokens < cost)\n")],
     [unit("test_qos")]),

    ("qos-burst-batch-stays-active", "the burst scheduler's one-class batch leaves the class "
     "active when its frames run out (it keeps its tag over an idle spell)",
     [("src/core/qos.c", "\t\t\t\tif (k < max)\n\t\t\t\t\tc->active = false; /* its frames ran out */\n",
       "\t\t\t\tif (false)\n\t\t\t\t\tc->active = false; /* its frames ran out */\n")],
     [unit("test_qos")]),

    ("qos-pause-quantum-wrong", "a pause quantum is taken as 64 bit times instead of 512",
     [("src/core/qos.c", "\tuint64_t bits_ns = (uint64_t)quanta * 512 * NS_PER_S;\n",
       "\tuint64_t bits_ns = (uint64_t)quanta * 64 * NS_PER_S;\n")],
     [unit("test_qos")]),

    ("qos-pause-any-dst", "a PAUSE or PFC frame is obeyed whatever its destination address",
     [("src/core/qos.c", "\tif (memcmp(f, xvs_qos_pause_dst, sizeof(xvs_qos_pause_dst)) != 0)\n",
       "\tif (false && memcmp(f, xvs_qos_pause_dst, sizeof(xvs_qos_pause_dst)) != 0)\n")],
     [unit("test_qos")]),

    # -- QoS on the datapath and its control (issue 13)
    ("qos-pfc-not-honoured", "a PFC-paused priority's class is still scheduled",
     [("src/dp/qos_egress.c", "\t\t\tbl[c].n = 0;\n", "\t\t\t(void)0;\n")],
     [e2e("test_qos_pfc.py")]),

    ("qos-pfc-resume-ignored", "a PFC pause time of 0 does not resume the priority",
     [("src/dp/qos_egress.c", "\t\tq->pause_seen = seq; /* a pause frame came: what it changed counts now */\n\t\tq->wake_ns = 0;\n",
       "\t\tq->pause_seen = seq; /* a pause frame came: what it changed counts now */\n")],
     [e2e("test_qos_pfc.py")]),

    ("qos-pool-unbounded", "QoS FIFOs may hold every mbuf of a pool (rx starves)",
     [("src/dp/qos_egress.c", "\t\t\t     (pb->tot[pi] >= pb->lim[pi] &&",
       "\t\t\t     (pb->tot[pi] >= pb->lim[pi] && false &&")],
     [e2e("test_qos_pfc.py")]),

    ("qos-pool-per-owner", "each QoS owner may queue the whole pool share: owners on "
     "several workers together hold the pool (rx starves)",
     [("src/dp/qos_egress.c", "mp[k]->size / XVS_QOS_POOL_SHARE / owners : UINT32_MAX;",
       "mp[k]->size / XVS_QOS_POOL_SHARE : UINT32_MAX;")],
     [e2e("test_qos_pfc.py", "pool_share_holds_for_all_owners")]),

    ("qos-direct-jumps-backlog", "the QoS owner sends its own burst at once although frames "
     "of its class wait in the FIFO (out of order, ahead of the backlog)",
     [("src/dp/qos_egress.c",
       "\t\tif (q->q[c].tail != q->q[c].head)\n\t\t\treturn false;\n"
       "\tfor (uint16_t i = 0;",
       "\t\tif (false && q->q[c].tail != q->q[c].head)\n\t\t\treturn false;\n"
       "\tfor (uint16_t i = 0;")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-run-class-without-run", "a frame after one with the same addresses takes its traffic "
     "class whether or not its headers are the same (a run)",
     [("src/dp/stage_l2.c",
       "if (unlikely(meta_on) && run[i] && same_class_mark(",
       "if (unlikely(meta_on) && i > 0 && same_class_mark(")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-run-class-stale-after-drop", "runs are not re-marked after an ingress stage dropped "
     "frames: a frame takes the class of another run's frame",
     [("src/dp/stage_l2.c",
       "\t\trun[i] = run[i] && c->same && !mod[i];",
       "\t\t(void)run;")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-direct-one-class", "the QoS owner's direct path takes a whole burst as the class of "
     "its first frame (a run reused across a class change)",
     [("src/dp/qos_egress.c", "\tif (unlikely(mixed != 0)) {\n\t\tsend_direct_mixed(",
       "\tif (false) {\n\t\tsend_direct_mixed(")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-direct-skips-rings", "the QoS owner's direct path ignores frames waiting for the "
     "scheduler (other workers' hand-offs: its own burst goes ahead of them)",
     [("src/dp/qos_egress.c",
       "\t    !nothing_queued(q, pl))\n",
       "\t    false)\n")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-idle-skips-rings", "the QoS owner's turn is skipped while only other workers' "
     "hand-off rings hold frames",
     [("src/dp/qos_egress.c",
       "\t\t\treturn false;\n\treturn true;\n",
       "\t\t\treturn true;\n\treturn true;\n")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-l2-run-without-run", "on a switch without stages, a frame after one with the same "
     "addresses takes its traffic class whether or not its headers are the same (a run)",
     [("src/dp/stage_l2.c", "\t\t\tif (!(run[i] && q_prev == i - 1 && q_out == out))\n",
       "\t\t\tif (!(q_prev == i - 1 && q_out == out))\n")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-l2-class-unmarked", "on a switch without stages, the class the L2 stage wrote is "
     "not marked: the flush classifies the frame again from metadata never filled",
     [("src/dp/stage_l2.c", "\t\telse if (unlikely(qos_l2) && q_prev == i)\n",
       "\t\telse if (false && q_prev == i)\n")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-l2-flood-no-meta", "on a switch without stages, a flooded frame's copies reach a "
     "QoS port without the metadata their classification reads",
     [("src/dp/stage_l2.c", "\tif (unlikely(qos_l2))\n\t\txvs_meta_fill(m, &c->l2, in_port, c->vid);\n",
       "\tif (false)\n\t\txvs_meta_fill(m, &c->l2, in_port, c->vid);\n")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-l2-no-pcp", "the L2 stage's classifier ignores the 802.1p priority of the tag "
     "the frame arrived with",
     [("src/dp/qos_egress.h", "xvs_meta_w1(d, len, l2, l2->tagged ? XVS_META_TAGGED : 0,",
       "xvs_meta_w1(d, len, l2, 0,")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-direct-mixed-arrival-order", "the QoS owner's direct path sends a burst of several "
     "classes in its class-sorted order, not in the order the scheduler picks",
     [("src/dp/qos_egress.c", "\t\tuint32_t c = cls[j], i = at[c]++;\n",
       "\t\tuint32_t c = cls[j], i = (at[c]++, j);\n")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-direct-mixed-unsorted", "the QoS owner's direct path takes a burst of several "
     "classes as sorted by class when it is not",
     [("src/dp/qos_egress.c", "\t\tuint32_t j = at[tc[i]]++;\n",
       "\t\tuint32_t j = (at[tc[i]]++, i);\n")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-direct-mixed-rest-reversed", "the QoS owner's direct path queues what it could not "
     "send of a burst of several classes in reverse order",
     [("src/dp/qos_egress.c", "\t\t\t\tpkts[k + r++] = ord[i];\n",
       "\t\t\t\tpkts[n - 1 - r++] = ord[i];\n")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-rpc-stray-keys", "qos.class_del ignores keys it does not know (a malformed request "
     "deletes the class)",
     [("src/ctl/cmd_qos.c", "\tif ((r = xvsd_params_only(params, \"qos.class_del\",",
       "\tif (false && (r = xvsd_params_only(params, \"qos.class_del\",")],
     [e2e("test_qos_ctl.py", "fuzz")]),

    ("top-qos-section-missing", "xvsctl top shows no QoS section",
     [("cli/top.c", "\t\tqos_top_section(sock, cols, 0, 0);\n", "")],
     [e2e("test_qos_ctl.py", "top_shows")]),

    ("qos-owner-not-spread", "every QoS port is scheduled by worker 0 whatever the others do",
     [("src/ctl/cmd_qos.c", "\tfor (uint16_t w = 1; w < lim; w++)\n\t\tif (s->worker[w].n_qos_owned",
       "\tfor (uint16_t w = 1; w < 0; w++)\n\t\tif (s->worker[w].n_qos_owned")],
     [e2e("test_qos_ctl.py", "owners")]),

    ("qos-owner-move-in-fence", "an owner move and an rx-queue move in one publication: the "
     "fence waits on the QoS rings of the port without owner (200 ms, tx_full)",
     [("src/ctl/switch.c", "\t\tif (xvsd_qos_moving()) {\n", "\t\tif (false && xvsd_qos_moving()) {\n"),
      ("src/ctl/cmd_qos.c", "\t\tif (q == NULL || s->port[slot].qos != q || s->port[slot].qos_owner == XVS_QOS_NO_OWNER)\n",
       "\t\tif (q == NULL)\n")],
     [e2e("test_qos_ctl.py", "owner_and_queues_move_together")]),

    ("mac-control-forwarded", "MAC control frames (PAUSE, PFC) are switched like any other",
     [("src/dp/stage_l2.c", "\t\tif (unlikely(c->l2.ethertype == XVS_QOS_ETH_MAC_CTRL)) {",
       "\t\tif (unlikely(c->l2.ethertype == XVS_QOS_ETH_MAC_CTRL && false)) {")],
     [e2e("test_qos_pfc.py")]),

    ("qos-segments-lose-class", "software-segmented TSO frames to a QoS port go out in "
     "whatever class their fresh mbufs held, not their frame's",
     [("src/dp/worker.c", "rte_mbuf_sched_traffic_class_set(res[k + j], tclass);",
       "(void)tclass;")],
     [[str(BUILD / "test_qos_dp")]]),

    ("qos-src-class-ignored", "egress QoS puts every frame in the default flow: a source "
     "port's minimum weight is ignored",
     [("src/dp/qos_egress.c",
       "uint8_t c = md->in_port < XVS_MAX_PORTS ? pl->src_cls[md->in_port] : 0;",
       "uint8_t c = md->in_port < XVS_MAX_PORTS ? 0 : 0;")],
     [e2e("test_qos.py", "weights_share")]),

    ("qos-port-cap-dropped", "a port's max-bw never reaches the scheduler (cap not enforced)",
     [("src/ctl/cmd_qos.c",
       "\t\tcfg->cls[cfg->n_classes - 1].max_bps = c->max_bw;\n",
       "\t\tcfg->cls[cfg->n_classes - 1].max_bps = 0;\n")],
     [e2e("test_qos.py", "cap_holds")]),

    ("qos-match-reads-sport", "the traffic-class classifier takes the source port for the "
     "destination port (class match wrong)",
     [("src/dp/qos_egress.h",
       "k.dport = (uint16_t)(d[l4_off + 2] << 8 | d[l4_off + 3]);",
       "k.dport = (uint16_t)(d[l4_off] << 8 | d[l4_off + 1]);")],
     [[str(BUILD / "test_qos_dp")], e2e("test_qos.py", "class_by_port")]),

    ("qos-not-paced", "a scheduling port is not paced to its link-rate: frames leave as "
     "fast as they come and no class waits",
     [("src/ctl/cmd_qos.c", "\tcfg->shape_port = true;\n", "\tcfg->shape_port = false;\n")],
     [e2e("test_qos.py", "weights_share")]),

    ("qos-classes-not-restored", "traffic classes are not restored at start",
     [("src/ctl/switch.c", "\tr = xvsd_qos_restore(err);\n", "\tr = 0;\n")],
     [e2e("test_qos.py", "survives_restart")]),

    ("qos-rate-max-overflows", "bit rates up to 10T are accepted: a token bucket's depth "
     "overflows above 9.22 Tbit/s and the port sends nothing",
     [("src/core/qos.h", "#define XVS_QOS_RATE_MAX 4000000000000ull",
       "#define XVS_QOS_RATE_MAX 10000000000000ull")],
     [unit("test_qos")]),

    ("qos-class-del-unchecked", "deleting a QoS class is not checked: a weight-mode cap falls "
     "below its grown share and QoS goes off at the next publication",
     [("src/ctl/cmd_qos.c", "\t\tcand.n_tc = n_tclasses - 1;\n\t\tr = check_all(err);\n",
       "\t\tcand.n_tc = n_tclasses - 1;\n\t\tr = 0;\n")],
     [e2e("test_qos.py", "delete_and_names")]),

    ("qos-port-del-unchecked", "deleting a port with a QoS minimum is not checked against "
     "the other classes' caps",
     [("src/ctl/cmd_port.c", "\tif ((r = xvsd_qos_check_port_del(p, err)) < 0)\n\t\treturn r;\n",
       "")],
     [e2e("test_qos.py", "delete_and_names")]),

    ("qos-unscheduled-unchecked", "QoS settings are checked only against scheduling ports: "
     "with none, impossible ones are stored",
     [("src/ctl/cmd_qos.c", "\tif (r == 0)\n\t\tr = check_alone(err);\n", "")],
     [e2e("test_qos.py", "delete_and_names")]),

    ("qos-port-takes-class-name", "port.add accepts the name of a QoS class",
     [("src/ctl/cmd_qos.c", "if (xvsd.port[p->slot] != p && tclass_find(cfg->name) != NULL)",
       "if (xvsd.port[p->slot] != p && tclass_find(cfg->name) != NULL && false)")],
     [e2e("test_qos.py", "delete_and_names")]),

    ("bal-home-vs-started", "balancer set checks home-worker against the workers started, "
     "not the active ones: the balancer stops balancing for good",
     [("src/ctl/cmd_balancer.c", "xvs_bal_cfg_check(&cfg, xvsd_workers_active(), err)",
       "xvs_bal_cfg_check(&cfg, xvs_dp.n_workers_max, err)")],
     [e2e("test_balancer.py", "home_worker_is")]),

    ("bal-workers-drop-home", "switch set workers may leave the balancer's home worker idle",
     [("src/ctl/cmd_switch.c", "\tif (r == 0 && cfg.workers < old.workers &&",
       "\tif (r == 0 && cfg.workers < old.workers && false &&")],
     [e2e("test_balancer.py", "home_worker_is")]),

    ("qos-link-speed-not-followed", "a QoS port without link-rate is not republished when its "
     "link reports a speed: after a start without it, it stays unscheduled",
     [("src/ctl/switch.c", "\txvsd_qos_tick();\n", "")],
     [e2e("test_qos.py", "vhost_guest_link")]),

    ("qos-link-down-unscheduled", "a QoS port whose link goes down loses its scheduling at the "
     "next publication (the last speed is not kept)",
     [("src/ctl/cmd_qos.c", "\t\tbps = last_link[p->slot].bps;\n", "")],
     [e2e("test_qos.py", "vhost_guest_link")]),

    ("qos-mode-change-unchecked", "bandwidth-mode changes while ports have minimums",
     [("src/ctl/cmd_qos.c", "\tif (sw->bw_mode != xvsd.sw.bw_mode) {",
       "\tif (sw->bw_mode != xvsd.sw.bw_mode && false) {")],
     [e2e("test_qos.py", "bad_input")]),

    ("qos-pcp-misplaced", "802.1p marking writes the priority one bit too low in the tag",
     [("src/dp/qos_egress.c", "\td[14] = (uint8_t)(pcp << 5);\n",
       "\td[14] = (uint8_t)(pcp << 4);\n")],
     [e2e("test_qos.py", "marks_8021p")]),

    ("qos-strict-dropped", "a traffic class's ETS strict priority never reaches the "
     "scheduler (it is weighted like the others)",
     [("src/ctl/cmd_qos.c", "\t\tcfg->cls[cfg->n_classes - 1].strict = t->strict;\n",
       "\t\tcfg->cls[cfg->n_classes - 1].strict = 0;\n")],
     [e2e("test_qos.py", "ets_strict")]),

    # -- control plane, the other halves of two features above
    ("mtu-before-commit", "port.set changes the device MTU before the store commit",
     [("src/ctl/cmd_port.c",
       "\tif ((r = xvsd_store_commit(err)) < 0)\n\t\treturn r;\n"
       "\tif (mtu && (r = set_mtu(p, cfg->mtu, err)) < 0)\n\t\tgoto restore_store;\n",
       "\tif (mtu && (r = set_mtu(p, cfg->mtu, err)) < 0) {\n"
       "\t\txvs_store_rollback(xvsd.store);\n\t\treturn r;\n\t}\n"
       "\tif ((r = xvsd_store_commit(err)) < 0)\n\t\treturn r;\n"
       "\tif (false)\n\t\tgoto restore_store;\n")],
     [e2e("test_faults.py", "port_set_mtu_commit_and_apply_failures")]),

    ("no-client-eviction", "with every control slot taken, a new connection is refused "
     "instead of closing the oldest idle one",
     [("src/ctl/main.c",
       "\t\t\tclient_close(epfd, c);\n\t\t\txvsd.rpc_evicted++;\n",
       "\t\t\tclose(fd);\n\t\t\tcontinue;\n")],
     [e2e("test_instances.py", "idle_clients_cannot_lock_the_operator_out")]),

    ("no-client-timeout", "an idle control client is never closed",
     [("src/ctl/main.c",
       "now - clients[i].since_ns >= timeout_s * 1000000000ull) {",
       "now - clients[i].since_ns >= timeout_s * 1000000000ull && false) {")],
     [e2e("test_instances.py", "idle_client_is_closed_after_the_timeout")]),

    ("learn-at-limit", "a port at its mac-limit still sends a learn request per new source",
     [("src/dp/stage_l2.c",
       "if (unlikely(xvs_fdb_port_full(xvs_dp.fdb, in_port))) {",
       "if (unlikely(xvs_fdb_port_full(xvs_dp.fdb, in_port) && false)) {")],
     [e2e("test_fdb.py", "port_at_mac_limit_does_not_fill_the_learn_ring")]),

    ("chain-flattened-small", "a jumbo chain is flattened into an mbuf of its own 2 KB pool",
     [("src/dp/offload.c",
       "rte_pktmbuf_alloc(fits || big == NULL ? m->pool : big);",
       "rte_pktmbuf_alloc(m->pool);")],
     [e2e("test_mtu.py", "jumbo_chain_from_tap_crosses_to_afpacket_uplink")]),

    # -- afxdp: xvs's own AF_XDP port (src/dp/ports/afxdp.c)
    ("afxdp-fd-not-watched", "an afxdp queue's socket fd is not the worker's wake-up fd",
     [("src/dp/ports/afxdp.c",
       "\t\tp->rxq[q].fd = xvs_xsk_fd(x, q);\n",
       "\t\tp->rxq[q].fd = -1;\n")],
     [e2e("test_idle.py", "afxdp_port_sleeps")]),

    # What DPDK's af_xdp PMD did: block in poll() on an empty rx ring, so an
    # idle afxdp port stalls every other queue of its worker.
    ("afxdp-rx-blocks-in-poll", "an empty afxdp rx ring blocks its worker in poll()",
     [("src/dp/ports/afxdp.c", "#include <sys/mman.h>\n",
       "#include <poll.h>\n#include <sys/mman.h>\n"),
      ("src/dp/ports/afxdp.c",
       "\t\tif (unlikely(xsk_ring_prod__needs_wakeup(&q->r.fill))) {\n",
       "\t\tif (1) {\n"),
      ("src/dp/ports/afxdp.c",
       "\t\t\t(void)recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);\n",
       "\t\t\t(void)poll(&(struct pollfd){.fd = q->fd, .events = POLLIN}, 1, 1000);\n")],
     [e2e("test_idle.py", "afxdp_port_does_not_stall")]),

    ("afxdp-long-spin", "a worker of afxdp sockets spins 200 us after each frame",
     [("src/dp/ports/afxdp.c", "\tp->caps.rx_spin_short = true;\n",
       "\tp->caps.rx_spin_short = false;\n")],
     [e2e("test_idle.py", "afxdp_worker_spins_short")]),

    ("afxdp-prog-left", "deleting an afxdp port leaves its XDP program attached",
     [("src/dp/ports/afxdp.c",
       "\t\t(void)bpf_xdp_detach(x->ifindex, x->xdp_flags, &opts);\n",
       "\t\t(void)opts;\n")],
     [e2e("test_ports.py", "afxdp_port_delete_and_add_again")]),

    ("afxdp-no-stale-replace", "an XDP program left by a killed xvsd is not replaced",
     [("src/dp/ports/afxdp.c",
       "\tif (bpf_xdp_query_id(ifindex, (int)mode, &id) < 0 || id == 0)\n",
       "\tif (bpf_xdp_query_id(ifindex, (int)mode, &id) < 0 || id != 0)\n")],
     [e2e("test_ports.py", "afxdp_port_back_after_kill9")]),

    ("ext-set-not-stored", "ext.set applies an extension's settings without storing them",
     [("src/ctl/cmd_ext.c",
       "\tif ((r = xvsd_ext_store_txn(store_settings, &undo, err)) < 0)\n\t\treturn r;\n",
       "")],
     [e2e("test_ext.py", "settings_survive_restart and kill9")]),

    ("ext-ports-not-replayed", "stored extension enablement is not restored when it loads",
     [("src/ctl/ext_state.c",
       "\txvs_store_load_ext(xvsd.store, XVS_STORE_EXT_PORT, rp->name, replay_port, rp, &e);\n",
       "")],
     [e2e("test_ext.py", "settings_survive_restart and restart")]),

    ("ext-dir-stops-at-refusal", "one refused object in --ext-dir stops loading the rest",
     [("src/ctl/ext_state.c",
       "not loaded, xvsd goes on without it\", e.msg);\n\t\treturn 0;",
       "not loaded, xvsd goes on without it\", e.msg);\n\t\treturn 1;")],
     [e2e("test_ext.py", "ext_dir_loads_good_objects")]),

    ("ext-size-unbounded", "the loader checks the tail of a descriptor whatever size it claims",
     [("src/ctl/ext_load.c",
       "(d->size > XVS_EXT_STRUCT_MAX ||",
       "(false ||")],
     [unit("test_ext_load")]),

    ("ext-example-passes", "the example extension gives its drop verdict as PASS",
     [("examples/udp-filter/udp_filter.c",
       "\t\t\tverdict[i] = XVS_VERDICT_DROP;\n",
       "\t\t\tverdict[i] = XVS_VERDICT_PASS;\n")],
     [e2e("test_ext.py", "example_drops_its_port")]),

    ("ext-apply-fail-kept", "a config_apply failing after the commit leaves the new settings stored",
     [("src/ctl/cmd_ext.c",
       "cur.n, true, err)) < 0) {\n\t\txvsd_store_restore(store_settings, &undo, err);\n",
       "cur.n, true, err)) < 0) {\n")],
     [e2e("test_ext.py", "failing_apply_and_refused_port")]),

    ("store-no-migration", "a version-1 database is opened without the extension tables",
     [("src/ctl/store.c",
       "\tif (v == SCHEMA_VERSION)\n\t\treturn 0;\n",
       "\tif (v >= 1)\n\t\treturn 0;\n")],
     [e2e("test_ext.py", "version_1_database")]),

    ("ext-writable-loaded", "an extension object others may rewrite is loaded",
     [("src/ctl/ext_load.c",
       "\tif (sb.st_mode & (S_IWGRP | S_IWOTH))\n",
       "\tif (false)\n")],
     [unit("test_ext_load")]),

    ("spoof-passes", "mac_spoof lets a frame from a foreign source MAC through",
     [("src/dp/stages/mac_spoof.c",
       "\t\tcase XVS_MAC_SPOOF:\n\t\t\tverdict[i] = XVS_VERDICT_DROP;\n",
       "\t\tcase XVS_MAC_SPOOF:\n\t\t\tverdict[i] = XVS_VERDICT_PASS;\n")],
     [e2e("test_guard.py", "spoofed_source or sticky")]),

    ("dhcp-guard-off", "dhcp_guard lets DHCP server messages through",
     [("src/dp/stages/guards.c",
       "if (!xvs_guard_drops(cls, dhcp, !dhcp))",
       "if (!xvs_guard_drops(cls, false, !dhcp))")],
     [e2e("test_guard.py", "rogue_dhcp")]),

    ("router-guard-off", "router_guard lets router advertisements and redirects through",
     [("src/dp/stages/guards.c",
       "if (!xvs_guard_drops(cls, dhcp, !dhcp))",
       "if (!xvs_guard_drops(cls, dhcp, false))")],
     [e2e("test_guard.py", "rogue_router")]),

    ("router-guard-fast-path-icmp4-only", "router_guard's metadata fast path clears ICMPv6",
     [("src/dp/stages/guards.c",
       "return md->l4_proto != PROTO_ICMP && md->l4_proto != PROTO_ICMPV6;",
       "return md->l4_proto != PROTO_ICMP;")],
     [e2e("test_guard.py", "rogue_router")]),

    ("storm-unlimited", "storm_limit admits every broadcast frame",
     [("src/dp/stages/storm_limit.c",
       "\t\tverdict[counted[j]] = XVS_VERDICT_DROP;\n",
       "\t\tverdict[counted[j]] = XVS_VERDICT_PASS;\n")],
     [e2e("test_guard.py", "storm")]),

    ("stage-drop-kept", "the pipeline counts a stage's DROP but still forwards the frame",
     [("src/dp/pipeline_run.c",
       "\t\t\trte_pktmbuf_free(pkts[i]);\n\t\t\tcontinue;\n",
       "\t\t\t(void)0;\n")],
     [e2e("test_guard.py", "spoofed_source or rogue_router")]),

    ("capture-may-drop", "a capture stage's DROP verdict is obeyed instead of counted as bad",
     [("src/dp/pipeline_run.c",
       "\t\tcase XVS_VERDICT_DROP:\n\t\t\tif (kind == XVS_EXT_CAPTURE)\n\t\t\t\tgoto bad;\n",
       "\t\tcase XVS_VERDICT_DROP:\n")],
     [[str(BUILD / "test_pipeline_dp")]]),
    ("mirror-swapped-dir", "a mirror session copies the other direction than asked",
     [("src/dp/stages/mirror.c",
       "unsigned d = b->place == XVS_EXT_INGRESS ? 0 : 1;",
       "unsigned d = b->place == XVS_EXT_INGRESS ? 1 : 0;")],
     [e2e("test_mirror.py", "copies_to_destination_only and in")]),

    ("mirror-truncated-copy", "a mirror copy of a TSO frame keeps only its first 2 KB",
     [("src/dp/stages/mirror.c",
       "xvs_dp.flood_pool : xvs_dp.flood_big_pool, 0, UINT32_MAX);",
       "xvs_dp.flood_pool : xvs_dp.flood_big_pool, 0, RTE_MBUF_DEFAULT_DATAROOM);")],
     [e2e("test_mirror.py", "tso_frames")]),

    ("mirror-feedback", "a mirror destination may also be the source of a session",
     [("src/ctl/cmd_mirror.c",
       "\t\tif (strcmp(o->src, m->dst) == 0)\n",
       "\t\tif (strcmp(o->src, m->dst) == 0 && false)\n")],
     [e2e("test_mirror.py", "refuses_bad_sessions")]),

    ("capture-no-limit", "a capture writes past its size limit",
     [("src/ctl/cmd_capture.c",
       "if (f->limit != 0 && f->bytes + bytes + len > f->limit)",
       "if (f->limit != 0 && f->bytes + bytes + len > 2 * f->limit)")],
     [e2e("test_capture.py", "limits_stop_cleanly")]),

    ("capture-swapped-dir", "captured frames carry the opposite pcapng direction",
     [("src/dp/stages/capture.c",
       "? RTE_PCAPNG_DIRECTION_IN : RTE_PCAPNG_DIRECTION_OUT;",
       "? RTE_PCAPNG_DIRECTION_OUT : RTE_PCAPNG_DIRECTION_IN;")],
     [e2e("test_capture.py", "ping_exchange and both")]),

    ("afxdp-kick-only-when-queued", "an afxdp tx kick only when this call queued frames",
     [("src/dp/ports/afxdp.c",
       "\tif (tx_unsent(&q->t) > 0 && xsk_ring_prod__needs_wakeup(&q->t.tx))\n",
       "\tif (0 && tx_unsent(&q->t) > 0 && xsk_ring_prod__needs_wakeup(&q->t.tx))\n"),
      ("src/dp/ports/afxdp.c",
       "\tif (queued > 0)\n\t\txsk_ring_prod__submit(&q->t.tx, queued);\n\ttx_kick_pending(q);\n",
       "\tif (queued > 0) {\n\t\txsk_ring_prod__submit(&q->t.tx, queued);\n"
       "\t\tif (xsk_ring_prod__needs_wakeup(&q->t.tx))\n\t\t\ttx_kick(q);\n\t}\n")],
     [e2e("test_ports.py", "afxdp_tx_ring_left_full_is_kicked_again")]),

    ("afxdp-second-port-same-netdev", "a second afxdp port on a netdev is not refused",
     [("src/dp/ports/afxdp.c",
       "\t.ifname_exclusive = true,\n",
       "\t.ifname_exclusive = false,\n")],
     [e2e("test_ports.py", "afxdp_second_port_on_same_netdev_refused")]),

    ("afxdp-mtu-not-restored", "a failed afxdp open leaves the netdev MTU changed",
     [("src/dp/ports/afxdp.c",
       "\t\tif (mtu0 > 0 && mtu0 != p->cfg.mtu)\n",
       "\t\tif (0 && mtu0 > 0 && mtu0 != p->cfg.mtu)\n")],
     [e2e("test_ports.py", "afxdp_queue_past_tx_queues_refused_mtu_restored")]),

    ("afxdp-tx-queues-unchecked", "an afxdp port binds queues past the netdev's tx queues",
     [("src/dp/ports/afxdp.c",
       "\t\t    (uint32_t)start_queue + nq > txq) {\n",
       "\t\t    (uint32_t)start_queue + nq > txq + 64) {\n")],
     [e2e("test_ports.py", "afxdp_queue_past_tx_queues_refused_mtu_restored")]),

    ("afxdp-live-prog-replaced", "a live xvsd's XDP program is taken for a dead one's",
     [("src/dp/ports/afxdp.c",
       "\treturn kill((pid_t)pid, 0) < 0 && errno == ESRCH;\n",
       "\treturn true;\n")],
     [e2e("test_ports.py", "afxdp_live_program_of_another_xvsd_not_replaced")]),

    ("bal-vmq-not-listed", "the balancer does not list VMQ queues: a busy VM's queue is "
     "never moved off the uplink's poller",
     [("src/ctl/balancer.c", "\tnv = xvsd_vmq_items(vmq_items, RTE_DIM(vmq_items));\n\tfor",
       "\tnv = 0;\n\tfor")],
     [e2e("test_balancer.py", "vmq_queues_spread")]),

    ("bal-vmq-own-time-on-uplink", "the poller's own VMQ queues' time is counted on the "
     "uplink's rx queue: the balancer moves the uplink instead of the busy VM's queue",
     [("src/dp/vmq_steer.c",
       "j += xvs_vmq_run_handed(w, s, out + j, (uint16_t)(k - j), now_tsc, acct);",
       "j += xvs_vmq_run_handed(w, s, out + j, (uint16_t)(k - j), now_tsc, NULL);")],
     [e2e("test_balancer.py", "vmq_queues_spread")]),

    ("bal-rss-client-off", "the balancer does not run the conservative RSS step: with the "
     "balancer on, a saturated conservative port never grows (two controllers, one idle)",
     [("src/ctl/balancer.c", "\trss_changed = rss_client(busy, now_tsc, xvs_now_ns());",
       "\trss_changed = false;")],
     [e2e("test_balancer.py", "conservative_rss_runs_inside")]),

    ("bal-pinned-moves", "a queue another controller places (a port spread by conservative "
     "RSS) is moved by the balancer like any other",
     [("src/core/balancer.c", "\tif (q[qi].pinned)", "\tif (q[qi].pinned && false)")],
     [unit("test_balancer")]),

    ("rss-trial-no-restart", "a growth under trial is judged on the first window of the "
     "controller the balancer's toggle hands it to, which may start before the growth",
     [("src/core/rss.c", "st->trial = st->trial > 0 ? XVS_RSS_TRIAL_SAMPLES : 0;",
       "st->trial = st->trial;")],
     [unit("test_rss")]),

    ("bal-vmq-stay-on-disable", "disabling the balancer leaves VMQ queues where it put them "
     "(often packed on the uplink's poller) instead of their placement at creation",
     [("src/ctl/balancer.c", "\t\tvmq_unplace(nv, true);", "\t\t(void)nv;")],
     [e2e("test_balancer.py", "vmq_queues_spread")]),

    ("bal-tie-first-queue", "of two moves that level equally, the first queue goes, not the "
     "busier one: the uplink's rx queue leaves instead of the busy VM's VMQ queue",
     [("src/core/balancer.c", "(tie && parked == best_parked && a < best_src - BAL_TIE_PCT)",
       "(tie && parked == best_parked && a < best_src - BAL_TIE_PCT && false)")],
     [unit("test_balancer")]),

    ("bal-coalesce-on-sample", "a coalesce judges by the last sample, not the smoothed load: "
     "noise dips below low pack queues that the next spike spreads again (flapping)",
     [("src/core/balancer.c", "#define XVS_BAL_MEAN_NEW 0.2", "#define XVS_BAL_MEAN_NEW 1.0")],
     [unit("test_balancer")]),

    ("bal-no-hold", "a queue just moved may move straight back (flapping)",
     [("src/core/balancer.c",
       "return st->moved[qi] && now - st->moved_ns[qi] < hold;",
       "return st->moved[qi] && now - st->moved_ns[qi] < hold && false;")],
     [unit("test_balancer")]),

    ("bal-no-hysteresis", "a worker over high for one sample already spreads",
     [("src/core/balancer.c",
       "if (!stuck[i] && st->over[i] >= cfg->hysteresis &&",
       "if (!stuck[i] && st->over[i] >= 1 &&")],
     [unit("test_balancer")]),

    ("bal-pack-to-high", "coalescing packs a worker up to high instead of the midpoint",
     [("src/core/balancer.c",
       "if (max_d(plan->load_after[t], st->mean[t]) + add[t] + ql <= pack) {",
       "if (max_d(plan->load_after[t], st->mean[t]) + add[t] + ql <= cfg->high_pct) {")],
     [unit("test_balancer")]),

    ("bal-siblings-first", "the topology order ignores hyper-thread siblings",
     [("src/core/balancer.c",
       "if (cfg->cores_first && round == 0 && !is_primary(w, n, i))",
       "if (cfg->cores_first && round == 0 && !is_primary(w, n, i) && false)")],
     [unit("test_balancer")]),

    ("bal-worst-target", "a spread move takes the first target that lowers the source",
     [("src/core/balancer.c",
       "worst = a > b ? a : b;", "worst = a;")],
     [unit("test_balancer")]),

    ("bal-wake-parked", "on a tie a spread wakes a parked worker rather than use an active one",
     [("src/core/balancer.c",
       "(tie && best_parked && !parked)",
       "(tie && best_parked && !parked && false)")],
     [unit("test_balancer")]),

    ("bal-never-park", "a worker with no queue sleeps with timeouts instead of parking",
     [("src/dp/worker.c",
       "\t\t\t\tparkable = !has_duty(w, s);\n", "\t\t\t\tparkable = false;\n")],
     [e2e("test_balancer.py", "idle_queues_coalesce")]),

    ("bal-parked-not-woken", "a publication does not wake parked workers, so one given a "
     "queue without a wake-up fd never polls it",
     [("src/ctl/switch.c",
       "\t\t(void)!write(xvs_dp.worker[w]->wakefd, &one, sizeof(one));\n\t}\n"
       "\trte_rcu_qsbr_synchronize",
       "\t\tif (!atomic_load(&xvs_dp.worker[w]->parked))\n"
       "\t\t\t(void)!write(xvs_dp.worker[w]->wakefd, &one, sizeof(one));\n\t}\n"
       "\trte_rcu_qsbr_synchronize")],
     [e2e("test_balancer.py", "parked_worker_is_woken")]),

    ("bal-move-not-applied", "the balancer's placement is computed but the snapshot keeps RSS's",
     [("src/ctl/switch.c",
       "if (p->rxq[q].polled && p->rxq[q].bal_placed && p->rxq[q].bal_worker < n)",
       "if (p->rxq[q].polled && p->rxq[q].bal_placed && p->rxq[q].bal_worker < n && false)")],
     [e2e("test_balancer.py", "idle_queues_coalesce")]),

    ("bal-load-unmeasured", "the balancer sees every queue idle (busy cycles not read)",
     [("src/ctl/balancer.c",
       ".busy_pct = rq->bal_busy_pct, .pinned = pin};", ".busy_pct = 0, .pinned = pin};")],
     [e2e("test_balancer.py", "spread_and_coalesce")]),

    ("bal-not-restored", "the stored balancer settings are read but not put in force at start",
     [("src/ctl/balancer.c",
       "\treturn xvsd_balancer_apply(&cfg, err);\n}", "\treturn 0;\n}")],
     [e2e("test_balancer.py", "settings_are_checked")]),

    ("bal-two-controllers", "the conservative RSS controller keeps running beside the balancer",
     [("src/ctl/switch.c",
       "if (p->cfg.rss.profile == XVS_RSS_CONSERVATIVE && !xvsd_balancer_enabled()) {",
       "if (p->cfg.rss.profile == XVS_RSS_CONSERVATIVE) {")],
     [e2e("test_balancer.py", "conservative_rss_runs_inside")]),

    ("bal-fence-wraps", "the ring fence compares ring positions without the 32-bit wrap",
     [("src/dp/ring_fence.h",
       "return (int32_t)(__atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE) - pos) >= 0;",
       "return __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE) >= pos;")],
     [unit("test_ring_fence_dpdk")]),

    ("vmq-lightest-first", "a freed VMQ queue goes to the waiter of lowest weight",
     [("src/core/balancer.c",
       "if (best < 0 || p->wait[i].weight > p->wait[best].weight ||",
       "if (best < 0 || p->wait[i].weight < p->wait[best].weight ||")],
     [unit("test_balancer")]),

    ("emit-flush-in-place", "xvs_emit_flush sends from the queue's own slots, which an egress "
     "stage's new emits overwrite while it runs",
     [("src/dp/pipeline_run.c",
       "\t\txvs_tx_enqueue(w, s, out, m[i]);\n",
       "\t\txvs_tx_enqueue(w, s, out, q->m[i]);\n")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("vmq-poller-keeps-all", "the uplink's poller runs every VMQ queue's frames itself "
     "instead of handing them to the queue's worker",
     [("src/dp/vmq_steer.c",
       "\t\t\tdst[i] = f->worker;\n",
       "\t\t\tdst[i] = w->id;\n")],
     [e2e("test_vmq.py", "first_come")]),

    ("vmq-no-fence", "a change of VMQ filters is published without pausing the uplink and "
     "draining the hand-off rings first",
     [("src/ctl/switch.c", "\tif (vmq_fence) {\n", "\tif (false) {\n")],
     [e2e("test_vmq.py", "first_come")]),

    ("vmq-weight-ignored", "a VM port with vmq-weight 0 still gets a queue",
     [("src/ctl/vmq.c", "\tm->weight = v->cfg.vmq_weight;\n", "\tm->weight = 100;\n")],
     [e2e("test_vmq.py", "weight_zero")]),

    ("vmq-exhausted-silent", "a VM port left on the default queue because the pool is "
     "exhausted is not reported",
     [("src/ctl/vmq.c", "return a.status == XVS_VMQ_SHARED_EXHAUSTED ? \"exhausted\" : NULL;",
       "return NULL;")],
     [e2e("test_vmq.py", "first_come")]),

    ("vmq-weight-over-100", "vmq-weight 101 is accepted",
     [("src/core/config.c",
       "ret = xvs_u32_parse(what, value, 0, XVS_VMQ_WEIGHT_MAX, &v, err);",
       "ret = xvs_u32_parse(what, value, 0, XVS_VMQ_WEIGHT_MAX + 1, &v, err);")],
     [unit("test_config"), e2e("test_vmq.py", "bad_values")]),

    ("vmq-run-counts-once", "a handed-over run counts one packet on its VMQ queue",
     [("src/dp/vmq_steer.c", "\tqc->packets += k;\n", "\tqc->packets += 1;\n")],
     [e2e("test_vmq.py", "first_come")]),

    ("vmmq-no-spread", "a VMMQ port's frames all go to the first queue of its group",
     [("src/core/vmq.h", "return &t->sub[f->sub + h % f->n_sub];", "return &t->sub[f->sub];")],
     [unit("test_vmq"), e2e("test_vmq.py", "vmmq")]),

    ("vmmq-asks-one", "a port with vmmq-queues N asks the pool for one queue only",
     [("src/ctl/vmq.c", "for (k = 0; k < want->n_q; k++) {", "for (k = 0; k < 1; k++) {")],
     [e2e("test_vmq.py", "vmmq")]),

    ("vmq-filter-any-vlan-lost", "a trunk VM's any-VLAN filter is never looked up",
     [("src/core/vmq.h", "if (f == NULL && t->any_vlan && vid != XVS_VMQ_ANY_VLAN)",
       "if (f == NULL && false)")],
     [unit("test_vmq")]),
    ("same-flow-no-dst", "frames taken by the L2 stage's same-flow shortcut reach the egress "
     "stages without their destination",
     [("src/dp/stage_l2.c",
       "\t\tif (unlikely(meta_on)) {\n\t\t\txvs_meta(m)->dst.kind = XVS_DEST_PORT;",
       "\t\tif (unlikely(meta_on) && !c->same) {\n\t\t\txvs_meta(m)->dst.kind = XVS_DEST_PORT;")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("storm-counts-known", "storm_limit counts known unicast frames the forward stage looked up",
     [("src/dp/stages/storm_limit.c",
       "\t\t\t\tif (f & XVS_META_DST_KNOWN)\n\t\t\t\t\tcontinue;\n", "")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("dst-lookup-never-known", "the lookup before the ingress stages never tells storm_limit "
     "a destination is known",
     [("src/dp/stage_l2.c", "flags = md->flags | XVS_META_DST_LOOKED | (c->dst_found ? XVS_META_DST_KNOWN : 0);",
       "flags = md->flags | XVS_META_DST_LOOKED;")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("acl-run-hits-once", "the ACL counts a run of packets with one answer as one hit",
     [("src/dp/stages/acl.c", "\t\t\tw->hits[r - 1] += j - i;", "\t\t\tw->hits[r - 1]++;")],
     [unit("test_acl_dpdk")]),

    ("stage-never-finished-without-ports", "a stage removed while no port is open is never "
     "finished (its states kept, fini never called)",
     [("src/dp/pipeline.c",
       "xvs_stage_snapshot_built(void)\n{\n\treg.fill_seq++;\n}",
       "xvs_stage_snapshot_built(void)\n{\n}")],
     [unit("test_pipeline")]),

    ("acl-commit-unfaulted", "acl add commits to the store without the commit step every "
     "other change goes through (an injected commit failure is not seen)",
     [("src/ctl/cmd_acl.c",
       "\t\treturn r;\n\t}\n\tif ((r = xvsd_store_commit(err)) < 0)\n\t\treturn r;\n\tu.port",
       "\t\treturn r;\n\t}\n\tif ((r = xvs_store_commit(xvsd.store, err)) < 0)\n\t\treturn r;\n\tu.port")],
     [e2e("test_acl.py", "cannot_be_committed")]),

    ("guard-clean-dhcp-server", "the metadata fill marks a DHCPv4 server's frames clean, so "
     "dhcp_guard lets them through",
     [("src/dp/dp.h", "return sport == 67 || dport == 68 || sport == 547",
       "return dport == 68 || sport == 547")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("guard-clean-icmp", "the metadata fill marks ICMP clean, so router_guard lets router "
     "advertisements through",
     [("src/dp/dp.h", "|| proto == 1 || proto == 58)", "|| proto == 58)")],
     [[str(BUILD / "test_pipeline_dp")]]),

    ("acl-dup-no-answer", "a packet with the same ACL key as the one before it gets no rule",
     [("src/dp/stages/acl.c", "\t\t\tres[i] = res[i - 1];", "\t\t\tres[i] = 0;")],
     [unit("test_acl_dpdk")]),

    # -- a thousand ports (issue 11)
    ("fdb-port-byte", "the FDB keeps a port index in a byte again: port 999's frames go "
     "to port 231",
     [("src/core/fdb_table.h",
       "\tuint16_t port[XVS_FDB_SLOTS]; /* port of slot i */",
       "\tuint8_t port[XVS_FDB_SLOTS]; /* port of slot i */")],
     [unit("test_fdb"), e2e("test_scale.py")]),

    # -- fixes to the thousand ports (review)
    ("vhost-fdset-server-one", "a vhost-user server port counts 1 entry of lib vhost's fdset, "
     "not 2 (listen + guest): 1,000 server ports are accepted and guests beyond ~23 "
     "silently fail to connect",
     [("src/dp/ports/vhost.c", "\treturn v->client ? 1 : 2;\n", "\treturn 1;\n")],
     [e2e("test_vhost.py", "fdset_limit")]),

    ("port-undo-own-err", "a failed store undo of port.add(_many) reports into an error of "
     "its own, not the command's: the reply hides that store and switch disagree",
     [("src/ctl/cmd_port.c", "xvsd_store_restore(store_del_ports, &u, err);",
       "xvsd_store_restore(store_del_ports, &u, &(struct xvs_err){0});")],
     [e2e("test_faults.py", "add_many_publish_then_restore")]),

    ("port-undo-first-row", "the undo of a port.add_many whose publish failed deletes only "
     "its first port's row: the others come back at the next start",
     [("src/ctl/cmd_port.c", "for (unsigned i = 0; i < u->n && r == 0; i++)",
       "for (unsigned i = 0; i < 1 && r == 0; i++)")],
     [e2e("test_faults.py", "add_many_publish_then_restore")]),

    ("ethdev-limit-gone", "the 33rd ethdev port is not refused up front: DPDK's own probe "
     "failure is all the operator gets",
     [("src/dp/ports/ethdev.c", "\t    rte_eth_dev_count_total() >= RTE_MAX_ETHPORTS) {",
       "\t    rte_eth_dev_count_total() >= 2 * RTE_MAX_ETHPORTS) {")],
     [e2e("test_scale.py", "ethdev_limit")]),

    ("fdb-seq-16", "the FDB bucket's seqlock counter is 16 bits again: 32,768 changes "
     "while a reader is preempted wrap it and the reader takes a torn entry",
     [("src/core/fdb_table.h",
       "\tuint32_t seq;                 /* seqlock: odd while the writer changes the bucket */",
       "\tuint16_t seq;                 /* seqlock: odd while the writer changes the bucket */")],
     [unit("test_fdb")]),

    ("fdb-static-bit-lost", "a static FDB entry is read as learned (the static bit of the "
     "port field is ignored): learning moves it",
     [("src/core/fdb_table.h", "\thit->is_static = (port & XVS_FDB_STATIC) != 0;",
       "\thit->is_static = false;")],
     [unit("test_fdb")]),

    # -- per-turn costs that grow with idle ports (issue 11, ports1000.py --mem)
    ("poll-list-not-ready-polled", "a worker polls queues that cannot have frames (a "
     "vhost-user queue without a guest) every turn",
     [("src/dp/worker.c",
       "\t\t\tif (p->ops->rxq_ready != NULL && !p->ops->rxq_ready(p->priv, q->queue))\n",
       "\t\t\tif (false)\n")],
     [e2e("test_queue.py", "polled_only_with_a_guest")]),

    ("poll-list-epoch-ignored", "a queue that becomes ready without a new snapshot (a guest "
     "attaches) is not added to its worker's poll list",
     [("src/dp/worker.c",
       "if (unlikely(poll_gen != s->gen || poll_epoch != epoch)) {",
       "if (unlikely(poll_gen != s->gen)) {")],
     [e2e("test_queue.py", "polled_only_with_a_guest")]),

    ("vhost-attach-not-announced", "a vhost-user guest attaching is not announced to the "
     "workers, so its queue is never polled",
     [("src/dp/ports/vhost.c",
       "\tatomic_store_explicit(&v->vid, vid, memory_order_release);\n\txvs_dp_rxq_changed();\n",
       "\tatomic_store_explicit(&v->vid, vid, memory_order_release);\n")],
     [e2e("test_queue.py", "polled_only_with_a_guest"),
      e2e("test_vhost.py", "guest_testpmd_macswap")]),

    ("txp-not-listed", "a port whose kind keeps tx frames back (AF_XDP) is not asked to "
     "push them before the worker sleeps",
     [("src/dp/worker.c",
       "\t\tw->txp[w->n_txp++] = out;\n", "")],
     [e2e("test_ports.py", "tx_ring_left_full_is_kicked_again")]),
]


def _backup_path(rel):
    return BACKUP / (rel.replace("/", "__") + ".orig")


def _mutant(n):
    try:
        n = int(n)
    except ValueError:
        sys.exit(f"mutants.py: {n!r} is not a mutant number")
    if not 1 <= n <= len(MUTANTS):
        sys.exit(f"mutants.py: no mutant {n} (1-{len(MUTANTS)})")
    return n, MUTANTS[n - 1]


def _mutated_text(n, m):
    """{file: new text} for mutant n, or SystemExit "mutant N not applicable"."""
    texts = {}
    for rel, orig, repl in m[2]:
        path = REPO / rel
        text = texts.get(rel) or path.read_text()
        count = text.count(orig)
        if count != 1:
            sys.exit(f"mutant {n} not applicable: {m[0]}: the original text occurs {count} times "
                     f"in {rel} (expected once):\n{orig}")
        texts[rel] = text.replace(orig, repl)
    return texts


def restore():
    if not BACKUP.is_dir():
        return
    for b in sorted(BACKUP.glob("*.orig")):
        rel = b.name[:-len(".orig")].replace("__", "/")
        data = b.read_bytes()
        target = REPO / rel
        if target.read_bytes() != data:
            target.write_bytes(data)
        b.unlink()


def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd = argv[0]
    if cmd == "count":
        print(len(MUTANTS))
    elif cmd == "name":
        n, m = _mutant(argv[1])
        print(f"{m[0]} {m[1]}")
    elif cmd == "check":
        bad = 0
        for n, m in enumerate(MUTANTS, 1):
            try:
                _mutated_text(n, m)
            except SystemExit as e:
                print(e, file=sys.stderr)
                bad += 1
        sys.exit(1 if bad else 0)
    elif cmd == "apply":
        n, m = _mutant(argv[1])
        if BACKUP.is_dir() and any(BACKUP.glob("*.orig")):
            sys.exit(f"mutants.py: {BACKUP} holds originals of an earlier mutant: restore first")
        texts = _mutated_text(n, m)
        BACKUP.mkdir(parents=True, exist_ok=True)
        for rel, text in texts.items():
            path = REPO / rel
            _backup_path(rel).write_bytes(path.read_bytes())
            path.write_text(text)
    elif cmd == "restore":
        restore()
    elif cmd == "tests":
        n, m = _mutant(argv[1])
        for t in m[3]:
            print(shlex.join(t))
    elif cmd == "alltests":
        seen = []
        for m in MUTANTS:
            for t in m[3]:
                if t not in seen:
                    seen.append(t)
        for t in seen:
            print(shlex.join(t))
    else:
        sys.exit(f"mutants.py: unknown command {cmd!r}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv[1:])

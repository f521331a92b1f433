// What a process holds, read from Linux's /proc: its memory, the connections it keeps, what its clients left unread.
// For the specs and benchmarks that drive the server as a real process and watch it as an operator would.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A figure of the process's memory from /proc/<pid>/status, in bytes: VmRSS (resident now) or VmHWM (its peak). */
export function memoryBytes(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  return Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** The process's resident memory now (VmRSS), in bytes. */
export function rssBytes(pid: number): number {
  return memoryBytes(pid, 'VmRSS');
}

/**
 * How many of the connections from these client ports to `serverPort` the process still holds open. A connection the
 * server has closed may linger in the kernel (FIN_WAIT, against a client that reads nothing) but belongs to no
 * process any more: only sockets among the process's own file descriptors count.
 */
export function heldConnections(pid: number, serverPort: number, clientPorts: readonly number[]): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed between the listing and the readlink
    }
  }
  const wanted = new Set(clientPorts);
  let held = 0;
  for (const row of tcpTable()) {
    if (row.localPort === serverPort && wanted.has(row.remotePort) && inodes.has(row.inode)) held++;
  }
  return held;
}

/**
 * Bytes each client has received and not read (its socket's receive queue, from /proc/net/tcp), by client port: more
 * than 0 once the server has answered it, whatever the client does.
 */
export function unreadBytes(serverPort: number, clientPorts: readonly number[]): Map<number, number> {
  const wanted = new Set(clientPorts);
  const unread = new Map<number, number>();
  for (const row of tcpTable()) {
    if (row.remotePort === serverPort && wanted.has(row.localPort)) unread.set(row.localPort, row.rxQueue);
  }
  return unread;
}

/** Bytes received and not yet read on every connection to `remotePort` (such as a server's requests to a provider). */
export function unreadFrom(remotePort: number): number[] {
  return tcpTable()
    .filter((row) => row.remotePort === remotePort)
    .map((row) => row.rxQueue);
}

interface TcpRow {
  readonly localPort: number;
  readonly remotePort: number;
  readonly rxQueue: number;
  readonly inode: string;
}

function tcpTable(): TcpRow[] {
  const rows: TcpRow[] = [];
  const port = (address: string) => parseInt(address.split(':')[1]!, 16);
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      rows.push({ localPort: port(fields[1]!), remotePort: port(fields[2]!), rxQueue: parseInt(fields[4]!.split(':')[1]!, 16), inode: fields[9]! });
    }
  }
  return rows;
}

/**
 * A bounded map that forgets its least recently written key first, in O(1): entries are linked in write order.
 * (A plain Map evicting `keys().next()` degrades: V8 leaves deleted entries as holes that every new iterator
 * skips, so evicting from the front again and again costs O(holes) each time.)
 */
interface Node<K, V> {
  key: K;
  value: V;
  older: Node<K, V> | undefined;
  newer: Node<K, V> | undefined;
}

export class LruTable<K, V> {
  private readonly map = new Map<K, Node<K, V>>();
  private oldest: Node<K, V> | undefined;
  private newest: Node<K, V> | undefined;
  /** Entries forgotten to make room. */
  evictions = 0;

  constructor(readonly limit: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Makes `key` the newest without changing its value (a MAC seen again); false when it is not there. */
  touch(key: K): boolean {
    const n = this.map.get(key);
    if (!n) return false;
    if (n !== this.newest) {
      this.unlink(n);
      this.append(n);
    }
    return true;
  }

  /** Writes `key` (it becomes the newest), evicting the oldest when full. */
  set(key: K, value: V): void {
    const n = this.map.get(key);
    if (n) {
      n.value = value;
      this.unlink(n);
      this.append(n);
      return;
    }
    let node: Node<K, V>;
    if (this.map.size >= this.limit && this.oldest) {
      // The evicted entry's node carries the new one: a full table (a wire seeing new clients) allocates nothing.
      node = this.oldest;
      this.unlink(node);
      this.map.delete(node.key);
      this.evictions++;
      node.key = key;
      node.value = value;
    } else node = { key, value, older: undefined, newer: undefined };
    this.map.set(key, node);
    this.append(node);
  }

  delete(key: K): void {
    const n = this.map.get(key);
    if (!n) return;
    this.unlink(n);
    this.map.delete(key);
  }

  /** Deletes every entry whose value satisfies `drop`; returns how many. */
  deleteWhere(drop: (value: V) => boolean): number {
    let n = 0;
    for (const [key, node] of this.map) {
      if (!drop(node.value)) continue;
      this.unlink(node);
      this.map.delete(key);
      n++;
    }
    return n;
  }

  clear(): void {
    this.map.clear();
    this.oldest = undefined;
    this.newest = undefined;
  }

  private append(n: Node<K, V>): void {
    n.older = this.newest;
    n.newer = undefined;
    if (this.newest) this.newest.newer = n;
    else this.oldest = n;
    this.newest = n;
  }

  private unlink(n: Node<K, V>): void {
    if (n.older) n.older.newer = n.newer;
    else this.oldest = n.newer;
    if (n.newer) n.newer.older = n.older;
    else this.newest = n.older;
    n.older = undefined;
    n.newer = undefined;
  }
}

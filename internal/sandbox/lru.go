package sandbox

import (
	"container/list"
	"sync"
)

// lru is a byte-bounded least-recently-used cache, so a thousand tasks'
// inputs and results cannot exhaust memory: evicted entries are re-made.
type lru struct {
	mu    sync.Mutex
	max   int64
	size  int64
	ll    *list.List
	items map[string]*list.Element
}

type lruEntry struct {
	key string
	val []byte
}

func newLRU(max int64) *lru {
	return &lru{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *lru) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*lruEntry).val, true
}

// add stores val under key; a value larger than the whole bound is not kept.
func (c *lru) add(key string, val []byte) {
	n := int64(len(val))
	if n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.size -= int64(len(el.Value.(*lruEntry).val))
		el.Value.(*lruEntry).val = val
		c.size += n
		c.ll.MoveToFront(el)
	} else {
		c.items[key] = c.ll.PushFront(&lruEntry{key: key, val: val})
		c.size += n
	}
	for c.size > c.max {
		el := c.ll.Back()
		e := el.Value.(*lruEntry)
		c.ll.Remove(el)
		delete(c.items, e.key)
		c.size -= int64(len(e.val))
	}
}

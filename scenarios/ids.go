package scenarios

// IDKind separates the generated id spaces so that, for one seed, agent 3
// and queue 3 get different ids.
type IDKind uint64

// Id kinds for GeneratedID.
const (
	KindSource IDKind = iota + 1
	KindAgent
	KindQueue
	KindSkill
	KindLanguage
	KindWrapUpCode
	KindStation
)

// splitmix64 is a strong 64-bit mixer (Steele, Lea, Flood 2014).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// GeneratedID returns the deterministic UUIDv4 of the i-th id of a kind for
// a seed. The same inputs always give the same id, whatever the shard, so
// sharded runs agree on agents and queues.
func GeneratedID(seed int64, kind IDKind, i int) string {
	hi := splitmix64(uint64(seed) ^ splitmix64(uint64(kind)<<32^uint64(i)))
	lo := splitmix64(hi ^ uint64(i))
	var b [36]byte
	AppendUUID(b[:0], hi, lo)
	return string(b[:])
}

// AppendUUID appends the UUIDv4 text form of the 128 bits hi:lo (version
// and variant bits forced) to buf.
func AppendUUID(buf []byte, hi, lo uint64) []byte {
	const hexDigits = "0123456789abcdef"
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	var b [36]byte
	// Positions of the 32 hex digits in the 8-4-4-4-12 form.
	i := 0
	for shift := 60; shift >= 0; shift -= 4 {
		if i == 8 || i == 13 {
			b[i] = '-'
			i++
		}
		b[i] = hexDigits[hi>>uint(shift)&0xf]
		i++
	}
	for shift := 60; shift >= 0; shift -= 4 {
		if i == 18 || i == 23 {
			b[i] = '-'
			i++
		}
		b[i] = hexDigits[lo>>uint(shift)&0xf]
		i++
	}
	return append(buf, b[:]...)
}

// Resolve returns the ids of the set: the given ones, or Count generated
// ones of kind for seed.
func (ids IDs) Resolve(seed int64, kind IDKind) []string {
	if len(ids.IDs) > 0 {
		return ids.IDs
	}
	out := make([]string, ids.Count)
	for i := range out {
		out[i] = GeneratedID(seed, kind, i)
	}
	return out
}

// AgentID returns the user id of agent i (0-based): the given id, or a
// generated one.
func (a Agents) AgentID(seed int64, i int) string {
	if len(a.IDs) > 0 {
		return a.IDs[i]
	}
	return GeneratedID(seed, KindAgent, i)
}

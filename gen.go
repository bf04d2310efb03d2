package knock

import (
	"fmt"
	"math/rand/v2"
)

// avoidPorts are registered ports that scanners and busy networks hit all
// the time; a knock on them would be noise among noise, and a door on them
// could be opened by accident.
var avoidPorts = map[uint16]bool{
	1080: true, 1194: true, 1433: true, 1521: true, 1723: true, 1883: true, 2049: true, 2082: true,
	2083: true, 2375: true, 2376: true, 3000: true, 3128: true, 3306: true, 3389: true, 4443: true,
	5000: true, 5060: true, 5432: true, 5900: true, 5938: true, 6379: true, 6443: true, 6667: true,
	7000: true, 7001: true, 8000: true, 8008: true, 8080: true, 8081: true, 8088: true, 8443: true,
	8888: true, 9000: true, 9090: true, 9100: true, 9200: true, 9418: true, 10000: true, 11211: true,
	27017: true, 51820: true,
}

// Generate picks a random sequence of n distinct ports from 1024-65535,
// avoiding ports that see background traffic; about udpRatio of them are
// UDP. rng supplies the randomness (seed it from crypto/rand).
func Generate(rng *rand.Rand, n int, udpRatio float64) (Sequence, error) {
	if n < 1 || n > MaxKnockdSequence {
		return nil, fmt.Errorf("length %d out of range 1-%d", n, MaxKnockdSequence)
	}
	if udpRatio < 0 || udpRatio > 1 {
		return nil, fmt.Errorf("UDP ratio %v out of range 0-1", udpRatio)
	}
	used := map[uint16]bool{}
	seq := make(Sequence, 0, n)
	udp := int(udpRatio*float64(n) + 0.5)
	for len(seq) < n {
		p := uint16(1024 + rng.IntN(65536-1024))
		if used[p] || avoidPorts[p] {
			continue
		}
		used[p] = true
		seq = append(seq, Knock{Port: p, Proto: TCP})
	}
	for _, i := range rng.Perm(n)[:udp] {
		seq[i].Proto = UDP
	}
	return seq, nil
}

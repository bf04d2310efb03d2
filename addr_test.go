package knock

import (
	"net/netip"
	"testing"
)

func TestNotAPeer(t *testing.T) {
	for _, tc := range []struct {
		addr string
		peer bool
	}{
		{"10.77.0.1", true},
		{"fd77::1", true},
		{"fe80::1", true},
		{"64:ff9b::a4d:1", true}, // NAT64: a real peer behind a translator
		{"127.0.0.1", true},      // loopback: up to the link
		{"::1", true},
		{"::ffff:10.77.0.1", false},
		{"::10.77.0.1", false},
		{"::102:304", false},
		{"::", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
	} {
		got := NotAPeer(netip.MustParseAddr(tc.addr))
		if (got == "") != tc.peer {
			t.Errorf("NotAPeer(%s) = %q, want peer %v", tc.addr, got, tc.peer)
		}
	}
}

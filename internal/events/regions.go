package events

import (
	"fmt"
	"strings"
)

// Region is a Genesys Cloud region with its API and login base URLs.
type Region struct {
	Name  string // e.g. us_east_1
	API   string // e.g. https://api.mypurecloud.com
	Login string // e.g. https://login.mypurecloud.com
}

var regions = []Region{
	{"us_east_1", "https://api.mypurecloud.com", "https://login.mypurecloud.com"},
	{"us_east_2", "https://api.use2.us-gov-pure.cloud", "https://login.use2.us-gov-pure.cloud"},
	{"us_west_2", "https://api.usw2.pure.cloud", "https://login.usw2.pure.cloud"},
	{"ca_central_1", "https://api.cac1.pure.cloud", "https://login.cac1.pure.cloud"},
	{"sa_east_1", "https://api.sae1.pure.cloud", "https://login.sae1.pure.cloud"},
	{"mx_central_1", "https://api.mxc1.pure.cloud", "https://login.mxc1.pure.cloud"},
	{"eu_west_1", "https://api.mypurecloud.ie", "https://login.mypurecloud.ie"},
	{"eu_west_2", "https://api.euw2.pure.cloud", "https://login.euw2.pure.cloud"},
	{"eu_central_1", "https://api.mypurecloud.de", "https://login.mypurecloud.de"},
	{"eu_central_2", "https://api.euc2.pure.cloud", "https://login.euc2.pure.cloud"},
	{"eusc_de_east_1", "https://api.edee1.eusc-pure.cloud", "https://login.edee1.eusc-pure.cloud"},
	{"me_central_1", "https://api.mec1.pure.cloud", "https://login.mec1.pure.cloud"},
	{"ap_south_1", "https://api.aps1.pure.cloud", "https://login.aps1.pure.cloud"},
	{"ap_southeast_1", "https://api.apse1.pure.cloud", "https://login.apse1.pure.cloud"},
	{"ap_southeast_2", "https://api.mypurecloud.com.au", "https://login.mypurecloud.com.au"},
	{"ap_northeast_1", "https://api.mypurecloud.jp", "https://login.mypurecloud.jp"},
	{"ap_northeast_2", "https://api.apne2.pure.cloud", "https://login.apne2.pure.cloud"},
	{"ap_northeast_3", "https://api.apne3.pure.cloud", "https://login.apne3.pure.cloud"},
}

// Regions returns all known regions.
func Regions() []Region { return append([]Region(nil), regions...) }

// LookupRegion finds a region by name. Both us_east_1 and us-east-1 spellings
// are accepted, as are the API host names (mypurecloud.com).
func LookupRegion(name string) (Region, error) {
	n := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(name), "-", "_"))
	for _, r := range regions {
		if r.Name == n || strings.TrimPrefix(r.API, "https://api.") == strings.ToLower(name) {
			return r, nil
		}
	}
	return Region{}, fmt.Errorf("region %q: %w", name, ErrUnknown)
}

// IsGenesysHost reports whether host (no port) is a real Genesys Cloud API
// or login host, where a run writes into a live org.
func IsGenesysHost(host string) bool {
	host = strings.ToLower(host)
	for _, r := range regions {
		for _, u := range []string{r.API, r.Login} {
			if host == strings.TrimPrefix(u, "https://") {
				return true
			}
		}
	}
	for _, d := range []string{".mypurecloud.com", ".pure.cloud", ".mypurecloud.ie", ".mypurecloud.de", ".mypurecloud.jp", ".mypurecloud.com.au", ".us-gov-pure.cloud", ".eusc-pure.cloud", ".inindca.com", ".inintca.com"} {
		if strings.HasSuffix(host, d) {
			return true
		}
	}
	return false
}

// LoginFor derives the login base URL for an API base URL the way the SDKs
// do: api.<domain> becomes login.<domain>. ok is false when base does not
// start with api.
func LoginFor(apiBase string) (login string, ok bool) {
	if i := strings.Index(apiBase, "://api."); i >= 0 {
		return apiBase[:i] + "://login." + apiBase[i+len("://api."):], true
	}
	return "", false
}

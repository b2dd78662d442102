package media

// Check applies the rules to an image already measured (for example an
// upload whose size was recorded when it arrived), without reading it again.
func (rules ImageRules) Check(info ImageInfo) error { return rules.check(info) }

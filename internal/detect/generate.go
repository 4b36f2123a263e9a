package detect

import "math"

// Generate is the reference server's stand-in for a detector: 1 to 3
// boxes derived deterministically from the fingerprint of the model's
// input tensor (kserve.Fingerprint), in the pixels of a w x h model input.
// A splitmix64 stream seeded with the fingerprint gives each box a class
// (distinct within the answer), a confidence (0.5..1, 4 decimals) and a
// box of 5..20% of the input's sides centred within 5% of the input's
// centre, so that it falls on the image whatever the letterbox padding (a
// letterboxed image is always centred). Every transport of the reference
// server answers with these boxes, so every deployment of the same image
// agrees.
func Generate(fp uint32, w, h int) []Box {
	state := uint64(fp)
	next := func() uint64 { // splitmix64
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	unit := func() float64 { return float64(next()>>11) / (1 << 53) }
	fw, fh := float64(max(w, 1)), float64(max(h, 1))
	n := 1 + int(fp%3)
	out := make([]Box, 0, n)
	for len(out) < n {
		class := int(next() % uint64(len(COCO)))
		dup := false
		for _, b := range out {
			dup = dup || b.Class == class
		}
		if dup {
			continue
		}
		cx := fw/2 + (unit()-0.5)*0.1*fw
		cy := fh/2 + (unit()-0.5)*0.1*fh
		bw := (0.05 + unit()*0.15) * fw
		bh := (0.05 + unit()*0.15) * fh
		out = append(out, Box{
			Class: class, Name: COCO[class], Confidence: Round(0.5+0.5*unit(), 4),
			X1: Round(cx-bw/2, 2), Y1: Round(cy-bh/2, 2), X2: Round(cx+bw/2, 2), Y2: Round(cy+bh/2, 2),
		})
	}
	return out
}

// Round rounds v to a number of decimal places.
func Round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

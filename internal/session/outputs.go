package session

import (
	"context"
	"fmt"

	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/imaging"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/result"
)

// The output check (--check-outputs) catches a deployment that answers
// fast but wrong: before the load, each deployment answers each of its
// images once, and the answers are compared across deployments, image by
// image (same path): the reference server's fingerprints must be equal,
// and the detections the same within a tolerance (detect.Compare). The
// first deployment whose answers can all be read is the reference. One
// answer per image is enough to catch a wrong model, preprocessing or
// format; it does not watch every answer under load, which the hot path
// leaves undecoded to keep the client's cost low.

// ImageOutput is what a deployment answered for one image.
type ImageOutput struct {
	Image string
	// Boxes are the detections in 0..1 of the image; Known is false
	// when the answer's format has none to read.
	Boxes []detect.Box
	Known bool
	// Fingerprint is the reference server's, when HasFP.
	Fingerprint uint32
	HasFP       bool
	Err         error
}

// ReadOutputs sends each of a target's images once (the payload that
// starts with it) and reads the answer.
func ReadOutputs(ctx context.Context, t *Target) []ImageOutput {
	out := make([]ImageOutput, len(t.Images))
	for i, img := range t.Images {
		o := &out[i]
		o.Image = img.Path
		if i >= len(t.Payloads) {
			o.Err = fmt.Errorf("no payload for the image")
			continue
		}
		a, err := protocol.ReadAnswer(ctx, t.Client, t.Payloads[i])
		if err != nil {
			o.Err = err
			continue
		}
		if len(a.Fingerprints) > 0 {
			o.Fingerprint, o.HasFP = a.Fingerprints[0], true
		}
		if a.Boxes != nil {
			b := img.Bounds()
			var lb imaging.Letterbox
			if a.Space == protocol.SpaceInput {
				w, h, err := imaging.Size(t.ImageInput)
				if err != nil {
					o.Err = err
					continue
				}
				lb = imaging.Plan(b.Dx(), b.Dy(), w, h)
			}
			o.Boxes, o.Known = a.Unit(0, b.Dx(), b.Dy(), lb), true
		}
	}
	return out
}

// CompareOutputs compares the deployments' answers (outputs[i] is
// names[i]'s) image by image with a reference: of the deployments whose
// every answer could be read and holds detections or a fingerprint, the
// one most others agree with.
func CompareOutputs(names []string, outputs [][]ImageOutput, tol detect.Tolerance) *result.OutputCheck {
	check := &result.OutputCheck{Verdict: result.OutputsNotCompared, Deployments: []result.DeploymentOutputs{}}
	check.Tolerance.Coord, check.Tolerance.Confidence = tol.Coord, tol.Confidence
	ref := -1
	for i, outs := range outputs {
		d := result.DeploymentOutputs{Name: names[i], Boxes: []int{}}
		for _, o := range outs {
			n := -1
			if o.Known {
				n = len(o.Boxes)
			}
			d.Boxes = append(d.Boxes, n)
			fp := ""
			if o.HasFP {
				fp = fmt.Sprintf("%08x", o.Fingerprint)
			}
			d.Fingerprints = append(d.Fingerprints, fp)
		}
		if allEmpty(d.Fingerprints) {
			d.Fingerprints = nil
		}
		if why := unreadable(outs); why != "" {
			d.Status, d.Detail = result.OutputUnreadable, why
		}
		check.Deployments = append(check.Deployments, d)
	}
	// The reference is the answer most others agree with (the first of
	// equals), so that one wrong deployment listed first does not make
	// all the others look wrong.
	best := -1
	for i := range outputs {
		if check.Deployments[i].Status != "" {
			continue
		}
		agree := 0
		for j := range outputs {
			if j != i && check.Deployments[j].Status == "" {
				if status, _ := compareWith(outputs[i], outputs[j], "", tol); status == result.OutputsSame {
					agree++
				}
			}
		}
		if agree > best {
			ref, best = i, agree
		}
	}
	if ref < 0 {
		return check
	}
	check.Deployments[ref].Status = result.OutputReference
	for _, o := range outputs[ref] {
		check.Images = append(check.Images, o.Image)
	}
	compared := 0
	for i, outs := range outputs {
		d := &check.Deployments[i]
		if i == ref || d.Status != "" {
			continue
		}
		status, detail := compareWith(outputs[ref], outs, names[ref], tol)
		d.Status, d.Detail = status, detail
		if status != result.OutputUnreadable {
			compared++
		}
		if status == result.OutputDiffers {
			check.Verdict = result.OutputsDiffer
		}
	}
	if compared > 0 && check.Verdict != result.OutputsDiffer {
		check.Verdict = result.OutputsSame
	}
	return check
}

func allEmpty(s []string) bool {
	for _, v := range s {
		if v != "" {
			return false
		}
	}
	return true
}

// unreadable says why a deployment's answers cannot be compared, "" when
// they can.
func unreadable(outs []ImageOutput) string {
	if len(outs) == 0 {
		return "no images were sent"
	}
	for _, o := range outs {
		switch {
		case o.Err != nil:
			return fmt.Sprintf("%s: %v", o.Image, o.Err)
		case !o.Known && !o.HasFP:
			return "its answers carry no detections and no fingerprint to compare"
		}
	}
	return ""
}

// compareWith compares a deployment's answers with the reference's, for
// the images both sent.
func compareWith(ref, outs []ImageOutput, refName string, tol detect.Tolerance) (status, detail string) {
	byImage := map[string]ImageOutput{}
	for _, o := range ref {
		byImage[o.Image] = o
	}
	common := 0
	for _, o := range outs {
		r, ok := byImage[o.Image]
		if !ok {
			continue
		}
		comparable := false
		if r.HasFP && o.HasFP {
			comparable = true
			if r.Fingerprint != o.Fingerprint {
				return result.OutputDiffers, fmt.Sprintf("%s: fingerprint %08x, %s's %08x: the model saw another input", o.Image, o.Fingerprint, refName, r.Fingerprint)
			}
		}
		if r.Known && o.Known {
			comparable = true
			if msg := detect.Compare(o.Boxes, r.Boxes, tol); msg != "" {
				return result.OutputDiffers, fmt.Sprintf("%s: %s (against %s)", o.Image, msg, refName)
			}
		}
		if comparable {
			common++
		}
	}
	if common == 0 {
		return result.OutputUnreadable, "nothing to compare with " + refName + ": no image in common, or no detections and fingerprints on both sides"
	}
	return result.OutputsSame, fmt.Sprintf("%d image(s) as %s", common, refName)
}

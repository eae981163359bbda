#!/bin/bash
# tune crisp_steady on clip segments not in the model card's tables
cd /work/main
for bm in "0.75 6" "0.9 6" "0.75 12" "0.9 12" "0.9 8"; do
  set -- $bm
  for c in /tmp/tune/*.mp4; do for pr in vc x2; do
    echo "$1 $2 $(basename $c .mp4) $pr"
  done; done
done | xargs -P 2 -L 1 bash -c 'build/tools/crisp eval --video /tmp/tune/$2.mp4 --protocol $3 --model models/crisp-rt.crisp@int8 --model models/crisp-rt.crisp@int8+steady --steady-blend $0 --steady-motion $1 --json /tmp/tune/res/$0-$1-$2-$3.json >/dev/null'

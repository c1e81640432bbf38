import { step1 as s1, step2 as s2, step3 as s3 } from '../pipeline';

export async function step1(n: number): Promise<number> {
  return s1(n);
}

export async function step2(x: number, work: number): Promise<number> {
  return s2(x, work);
}

export async function step3(x: number): Promise<number> {
  return s3(x);
}

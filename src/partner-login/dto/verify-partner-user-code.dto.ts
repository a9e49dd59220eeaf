import { SubjectIdField } from '../../common/http/subject-id.decorator';
import { LoginCodeField } from '../../two-factor/http/config-fields';

export class VerifyPartnerUserCodeRequest {
  @SubjectIdField({ description: 'The partner user logging in', example: 'pu-10042' })
  partneruserid!: string;

  @LoginCodeField()
  code!: string;
}
